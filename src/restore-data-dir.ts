import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { claimDataDir, CONTROL_SOCKET, openPglite } from '@picard/service-kit';
import type { BackupContents } from './backup-archive.js';
import { syncDirectory, writeFileDurably } from './durable-file.js';
import { prepareDataDir } from './embedded-secrets.js';

export interface RestoreOutcome {
  /** Where the data directory's previous contents were moved, when it had any. */
  previous?: string;
}

/** What the data directory holds besides a control socket (a stale one counts as nothing). */
export async function contentsOf(dataDir: string): Promise<string[]> {
  const entries = await readdir(dataDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  return entries.filter((entry) => entry !== CONTROL_SOCKET);
}

/**
 * Builds the restored data directory beside `dataDir` (each database created from its dump, which
 * proves it opens; the secrets written), then swaps it in: the old contents move aside, never
 * deleted. The directory is held throughout, so Picard cannot start on it halfway.
 */
export async function restoreDataDir(
  dataDir: string,
  contents: BackupContents,
  onDatabase: (name: string) => void,
): Promise<RestoreOutcome> {
  await prepareDataDir(dataDir);
  const claim = await claimDataDir(dataDir, 'restore');
  const stage = join(dirname(dataDir), `.${basename(dataDir)}.restoring-${process.pid}`);
  try {
    await mkdir(stage, { mode: 0o700 });
    for (const [name, data] of contents.secrets) await writeFileDurably(join(stage, name), data);
    for (const [name, tar] of contents.databases) {
      const db = await openPglite(join(stage, name), { initial: tar }).catch((err: Error) => {
        throw new Error(`the ${name} database in the archive does not open: ${err.message}`);
      });
      await db.close();
      onDatabase(name);
    }
    const hadContents = (await contentsOf(dataDir)).length > 0;
    const previous = `${dataDir}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(dataDir, previous);
    await rename(stage, dataDir);
    await syncDirectory(dirname(dataDir));
    if (!hadContents) await rm(previous, { recursive: true, force: true });
    return { previous: hadContents ? previous : undefined };
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    throw err;
  } finally {
    await claim.release();
  }
}
