// @ts-check
/**
 * What it takes for an embedded database on disk to keep every acknowledged commit through a
 * machine crash (power loss, kernel panic), not only through a process crash.
 *
 * PGlite as shipped writes every commit's WAL with write(2) before the commit returns, so a killed
 * process loses nothing: the kernel holds the bytes. But it starts PostgreSQL with fsync off (-F),
 * and its Emscripten file system turns fsync and fdatasync into no-ops besides, so after a machine
 * crash recent commits can be missing and, worse, data pages can have reached the disk before the
 * WAL that describes them (a database that no longer opens). Here PostgreSQL runs with fsync on,
 * syncs its WAL with fsync() (the one call Emscripten routes to the file system), and the file
 * system's fsync is taught to really flush.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/** PGlite's start parameters with fsync on, the WAL synced through fsync(). */
export const DURABLE_START_PARAMS = [
  ...PGlite.defaultStartParams.filter((param) => param !== '-F'),
  '-c',
  'wal_sync_method=fsync',
];

/**
 * Emscripten's Node file system, as PGlite's NodeFS mounts it, with an fsync that reaches the disk.
 * Fails loudly when a PGlite update has moved what it patches, rather than run without flushing.
 */
export class DurableNodeFS extends NodeFS {
  /**
   * @override
   * @type {NodeFS['init']}
   */
  async init(pg, emscriptenOptions) {
    const { emscriptenOpts } = await super.init(pg, emscriptenOptions);
    const preRun = [emscriptenOpts.preRun ?? []].flat();
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [...preRun, flushOnFsync] } };
  }
}

/**
 * @typedef {{ nfd?: number }} NodeStream
 * @typedef {{
 *   stream_ops?: { fsync?: (stream: NodeStream) => void },
 *   tryFSOperation?: (op: () => void) => void,
 * }} EmscriptenNodeFs
 */

/** @param {{ FS: { filesystems?: { NODEFS?: EmscriptenNodeFs } } }} mod */
function flushOnFsync(mod) {
  const nodefs = mod.FS.filesystems?.NODEFS;
  const ops = nodefs?.stream_ops;
  const tryFsOperation = nodefs?.tryFSOperation?.bind(nodefs);
  if (!ops || !tryFsOperation)
    throw new Error(
      'this PGlite version has no Emscripten NODEFS stream_ops to make durable: ' +
        'service-kit/src/pglite-durable-fs.mjs needs updating',
    );
  // A failed flush reaches PostgreSQL as an errno, which then stops rather than go on unsynced.
  ops.fsync = (stream) =>
    tryFsOperation(() => {
      if (stream.nfd !== undefined) fsyncSync(stream.nfd);
    });
}

/**
 * Flushes a directory tree written without PostgreSQL (a database unpacked from a template or a
 * backup), and the directory that holds it, so none of it is lost in a machine crash. `shallow`
 * flushes only the directory's own entries (a file removed from it).
 * @param {string} dir
 * @param {{ shallow?: boolean }} [opts]
 */
export function syncTree(dir, opts = {}) {
  if (!opts.shallow)
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile() || entry.isDirectory()) syncPath(join(entry.parentPath, entry.name));
    }
  syncPath(dir);
  syncPath(dirname(dir));
}

/** @param {string} path */
function syncPath(path) {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Marks a database directory whose creation has not finished. A process killed while unpacking
 * leaves files that look like a database (PG_VERSION comes before the configuration files): the
 * next open finds the mark and creates the database again. Nothing was ever acknowledged from such
 * a directory: the mark goes only once the database is whole and on the disk.
 */
export const CREATING = '.picard-creating';

/**
 * @typedef {{
 *   initial?: Uint8Array,
 *   template?: () => Promise<Uint8Array | undefined>,
 *   startParams?: string[],
 * }} DurableSource
 */

/**
 * Opens the PGlite database on disk in `dataDir`, durable (fsync on, see above). A directory
 * without one gets `initial` (a backup being restored; refused over an existing database), else
 * `template()`'s data directory, else a new one from initdb; either way it is flushed whole before
 * it is used, and a creation cut short is redone at the next open.
 * @param {string} dataDir
 * @param {Omit<import('@electric-sql/pglite').PGliteOptions, 'dataDir' | 'fs' | 'startParams'>} options
 * @param {DurableSource} [source] `startParams`: more of them, after the durable ones
 * @returns {Promise<{ db: PGlite, initialized: boolean }>} `initialized`: made by initdb (its caller
 *   may keep it as the template)
 */
export async function openDurable(dataDir, options, { initial, template, startParams = [] } = {}) {
  if (existsSync(join(dataDir, CREATING))) await emptyDirectory(dataDir);
  const opts = {
    ...options,
    fs: new DurableNodeFS(dataDir),
    startParams: [...DURABLE_START_PARAMS, ...startParams],
  };
  if (existsSync(join(dataDir, 'PG_VERSION'))) {
    if (initial) throw new Error(`${dataDir} already holds a database: it is not replaced`);
    return { db: await PGlite.create(opts), initialized: false };
  }
  const from = initial ?? (await template?.());
  await writeFile(join(dataDir, CREATING), '');
  const db = await PGlite.create(from ? { ...opts, loadDataDir: new Blob([from]) } : opts);
  syncTree(dataDir);
  await rm(join(dataDir, CREATING));
  syncTree(dataDir, { shallow: true });
  return { db, initialized: !from };
}

/** @param {string} dir */
async function emptyDirectory(dir) {
  for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
}
