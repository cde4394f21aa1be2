/**
 * The embedded backup archive: a gzipped tar holding a manifest (picard-backup.json), each
 * database's data directory as PGlite dumps it (databases/<name>.tar, itself a tar) and the
 * generated secrets (secrets/<file>). The manifest names every part with its SHA-256, so a
 * truncated, altered or foreign archive is refused before a restore touches anything.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { create, list } from 'tar';
import { writeFileDurably } from './durable-file.js';

export const BACKUP_FORMAT = 'picard-embedded-backup';
export const BACKUP_VERSION = 1;
const MANIFEST = 'picard-backup.json';

export interface BackupContents {
  /** Each database's data directory, as PGlite's dumpDataDir writes it (an uncompressed tar). */
  databases: Map<string, Uint8Array>;
  /** The generated secret files of the data directory, by file name. */
  secrets: Map<string, Uint8Array>;
}

interface Part {
  file: string;
  sha256: string;
  bytes: number;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  /** The data directory it was taken from, and whether Picard was running then. */
  source: { dataDir: string; online: boolean };
  databases: Record<string, Part>;
  secrets: Record<string, Part>;
}

export class NotABackupError extends Error {
  constructor(archive: string, why: string) {
    super(`${archive} is not a Picard backup that can be restored: ${why}`);
  }
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Writes the archive to `output` whole or not at all (readable by its owner only: it holds the
 * secrets). The parts are staged in a private directory beside it, removed afterwards.
 */
export async function writeBackupArchive(
  output: string,
  contents: BackupContents,
  source: BackupManifest['source'],
): Promise<BackupManifest> {
  const stage = await mkdtemp(join(dirname(output), '.picard-backup-'));
  try {
    const place = async (group: 'databases' | 'secrets', name: string, data: Uint8Array): Promise<Part> => {
      const file = group === 'databases' ? `databases/${name}.tar` : `secrets/${name}`;
      await mkdir(join(stage, group), { recursive: true, mode: 0o700 });
      await writeFile(join(stage, file), data, { mode: 0o600 });
      return { file, sha256: sha256(data), bytes: data.byteLength };
    };
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      createdAt: new Date().toISOString(),
      source,
      databases: {},
      secrets: {},
    };
    for (const [name, data] of contents.databases)
      manifest.databases[name] = await place('databases', name, data);
    for (const [name, data] of contents.secrets) manifest.secrets[name] = await place('secrets', name, data);
    await writeFile(join(stage, MANIFEST), JSON.stringify(manifest, null, 2), { mode: 0o600 });
    const parts = [
      MANIFEST,
      ...[...Object.values(manifest.databases), ...Object.values(manifest.secrets)].map((p) => p.file),
    ];
    await writeFileDurably(output, create({ gzip: true, cwd: stage, portable: true }, parts));
    return manifest;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** Reads and checks the whole archive: its manifest, and every part against its checksum. */
export async function readBackupArchive(
  archive: string,
): Promise<{ manifest: BackupManifest; contents: BackupContents }> {
  const files = await readTar(archive);
  const manifestBytes = files.get(MANIFEST);
  if (!manifestBytes) throw new NotABackupError(archive, `it has no ${MANIFEST}`);
  const manifest = parseManifest(archive, manifestBytes);
  const take = (parts: Record<string, Part>) =>
    new Map(
      Object.entries(parts).map(([name, part]) => {
        const data = files.get(part.file);
        if (!data) throw new NotABackupError(archive, `${part.file} is missing`);
        if (data.byteLength !== part.bytes || sha256(data) !== part.sha256)
          throw new NotABackupError(archive, `${part.file} does not match its checksum (damaged?)`);
        return [name, data];
      }),
    );
  return { manifest, contents: { databases: take(manifest.databases), secrets: take(manifest.secrets) } };
}

async function readTar(archive: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  try {
    await list({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => files.set(entry.path, Buffer.concat(chunks)));
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no archive at ${archive}`);
    throw new NotABackupError(archive, `not a readable gzipped tar archive (${(err as Error).message})`);
  }
  if (files.size === 0) throw new NotABackupError(archive, 'not a gzipped tar archive, or an empty one');
  return files;
}

function parseManifest(archive: string, bytes: Uint8Array): BackupManifest {
  let manifest: Partial<BackupManifest>;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<BackupManifest>;
  } catch {
    throw new NotABackupError(archive, `${MANIFEST} is not JSON`);
  }
  if (manifest.format !== BACKUP_FORMAT)
    throw new NotABackupError(archive, `${MANIFEST} is not a Picard manifest`);
  if (manifest.version !== BACKUP_VERSION)
    throw new NotABackupError(
      archive,
      `it is format version ${manifest.version}; this Picard restores version ${BACKUP_VERSION}`,
    );
  if (typeof manifest.databases !== 'object' || typeof manifest.secrets !== 'object')
    throw new NotABackupError(archive, `${MANIFEST} lists no databases or secrets`);
  return manifest as BackupManifest;
}
