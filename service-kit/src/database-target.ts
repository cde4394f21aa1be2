import { mkdir } from 'node:fs/promises';
import { PGliteThread, type EmbeddedDatabase, type OpenOptions } from './pglite-thread.js';

/** Where a service keeps its tables: a PostgreSQL URL, or an embedded PGlite of its own. */
export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; pglite: EmbeddedDatabase };

/**
 * Opens (or creates) an embedded PostgreSQL with pgvector in dataDir; `memory://` keeps it in RAM.
 * Each runs in its own worker thread, so its statements never stall the event loop and the
 * embedded launcher's databases work on several cores; cluster deployments never load it.
 */
export function openPglite(dataDir: string, opts: OpenOptions = {}): Promise<EmbeddedDatabase> {
  return PGliteThread.open(dataDir, opts);
}

/**
 * The cluster/embedded switch for one service: a PostgreSQL URL when configured, otherwise an
 * embedded PGlite kept under dataDir/<name> across restarts, opened with `embedded`.
 */
export async function resolveDatabaseTarget(
  url: string | undefined,
  dataDir: string,
  name: string,
  embedded: OpenOptions = {},
): Promise<DatabaseTarget> {
  if (url) return { kind: 'postgres', url };
  const dir = `${dataDir}/${name}`;
  await mkdir(dir, { recursive: true });
  return { kind: 'pglite', pglite: await openPglite(dir, embedded) };
}
