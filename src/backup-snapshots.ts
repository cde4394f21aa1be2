import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  claimDataDir,
  controlRequest,
  dataDirHolder,
  DataDirInUseError,
  openPglite,
} from '@picard/service-kit';
import { EMBEDDED_DATABASES, type EmbeddedDatabaseName } from './embedded-secrets.js';

/**
 * The order snapshots are taken in: a database before the one its rows refer to (persona and
 * memory rows name users that auth keeps), so that no restored row refers to what the backup lacks.
 */
const SNAPSHOT_ORDER: readonly EmbeddedDatabaseName[] = ['persona', 'memory', 'auth'];

export interface Snapshots {
  databases: Map<string, Uint8Array>;
  /** Whether a running Picard took them (else this process opened the databases itself). */
  online: boolean;
}

type Snapshot = (name: EmbeddedDatabaseName) => Promise<Uint8Array>;

/**
 * One consistent snapshot of each embedded database of the data directory: taken by the running
 * Picard through its control socket (each holds every write acknowledged before it is taken), or,
 * when none runs, by opening the databases here while holding the directory against a start.
 */
export async function takeSnapshots(
  dataDir: string,
  onSnapshot: (name: string, bytes: number) => void,
): Promise<Snapshots> {
  const holder = await dataDirHolder(dataDir);
  if (holder && holder.role !== 'picard') throw new DataDirInUseError(dataDir, holder);
  const takeAll = async (snapshot: Snapshot) => {
    const databases = new Map<string, Uint8Array>();
    for (const name of SNAPSHOT_ORDER) {
      const tar = await snapshot(name);
      databases.set(name, tar);
      onSnapshot(name, tar.byteLength);
    }
    return databases;
  };
  if (holder) return { databases: await takeAll((name) => fromRunningPicard(dataDir, name)), online: true };

  for (const name of EMBEDDED_DATABASES)
    if (!existsSync(join(dataDir, name, 'PG_VERSION')))
      throw new Error(`${dataDir} has no ${name} database: is it a Picard data directory?`);
  const claim = await claimDataDir(dataDir, 'backup');
  try {
    return { databases: await takeAll((name) => fromDisk(dataDir, name)), online: false };
  } finally {
    await claim.release();
  }
}

async function fromRunningPicard(dataDir: string, name: EmbeddedDatabaseName): Promise<Uint8Array> {
  const reply = await controlRequest(dataDir, 'POST', `/databases/${name}/snapshot`);
  if (reply.status === 200) return new Uint8Array(reply.body);
  const { message } = JSON.parse(reply.body.toString()) as { message?: string };
  throw new Error(`the running Picard could not snapshot the ${name} database: ${message}`);
}

async function fromDisk(dataDir: string, name: EmbeddedDatabaseName): Promise<Uint8Array> {
  const db = await openPglite(join(dataDir, name));
  try {
    return await db.dumpDataDir();
  } finally {
    await db.close();
  }
}
