// @ts-check
/**
 * One embedded PostgreSQL (PGlite with pgvector) in a worker thread. PGlite is WebAssembly that
 * runs every statement synchronously on the thread that holds it; in the main thread a search,
 * an ANALYZE or a migration would stall HTTP, gRPC and every other service of the embedded
 * launcher. pglite-thread.ts owns the worker and speaks the protocol of pglite-thread.protocol.ts.
 *
 * Plain JavaScript for the same reason as embedding-service's model worker: a Worker loads its
 * file with Node's own loader (outside jest's transform and tsx), from src/ and from dist/.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { openDurable } from './pglite-durable-fs.mjs';

/** @typedef {import('./pglite-thread.protocol.js').PgliteRequest} PgliteRequest */
/** @typedef {import('./pglite-thread.protocol.js').PgliteReply} PgliteReply */
/** @typedef {import('./pglite-thread.protocol.js').PgliteLoadReply} PgliteLoadReply */
/** @typedef {import('./pglite-thread.protocol.js').PgliteErrorData} PgliteErrorData */
/** @typedef {import('./pglite-thread.protocol.js').PgliteWorkerData} PgliteWorkerData */
/** @typedef {import('@electric-sql/pglite').Transaction} Transaction */
/** @typedef {import('@electric-sql/pglite').PGlite} PGlite */

/**
 * Keeps what callers branch on (code, constraint, detail, …): a structured clone of an Error keeps
 * only its message.
 * @param {unknown} err
 * @returns {PgliteErrorData}
 */
function errorData(err) {
  /** @type {Record<string, string | number>} */
  const fields = {};
  if (err && typeof err === 'object') {
    for (const [key, value] of Object.entries(err)) {
      if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
    }
  }
  return { message: err instanceof Error ? err.message : String(err), fields };
}

/**
 * A new database starts from a template: a gzipped data directory of a freshly initialized PGlite.
 * Running initdb in WebAssembly costs ~3 s of CPU per database; unpacking the template ~0.6 s
 * (1 s onto disk), which is most of the embedded launcher's first start and of every test stack.
 * The template is made by service-kit's build (and by the first database created without one),
 * one per PGlite version, beside the package (service-kit/.pglite-template/, not in git).
 */
const TEMPLATE_DIR = fileURLToPath(new URL('../.pglite-template/', import.meta.url));

async function templateFile() {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const pkg = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8'));
  return join(TEMPLATE_DIR, `pglite-${pkg.version}.tar.gz`);
}

/**
 * Opens the database in dataDir; one that does not exist yet is unpacked from `initial` (a backup
 * being restored) or the template, or initialized and then saved as the template when there is
 * none. On disk it runs with fsync on and a new one is flushed whole before it is used
 * (see pglite-durable-fs.mjs).
 * @param {string} dataDir
 * @param {import('./pglite-thread.protocol.js').PgliteArtifacts} artifacts
 * @param {Uint8Array} [initial] a data directory as dumpDataDir wrote it (tar)
 * @param {string} [sharedBuffers] PostgreSQL's shared_buffers, its default when unset
 * @returns {Promise<PGlite>}
 */
async function openDatabase(dataDir, artifacts, initial, sharedBuffers) {
  const [{ PGlite }, { vector }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
  ]);
  const options = {
    extensions: { vector },
    pgliteWasmModule: artifacts.pgliteWasmModule,
    initdbWasmModule: artifacts.initdbWasmModule,
    fsBundle: new Blob([artifacts.fsBundle]),
  };
  const buffers = sharedBuffers ? ['-c', `shared_buffers=${sharedBuffers}`] : [];
  const file = await templateFile();
  const template = () => readFile(file).catch(() => undefined);
  /** @type {{ db: PGlite, initialized: boolean }} */
  let opened;
  if (dataDir.startsWith('memory://')) {
    const from = initial ?? (await template());
    const startParams = [...PGlite.defaultStartParams, ...buffers];
    const db = await PGlite.create({
      ...options,
      dataDir,
      startParams,
      ...(from && { loadDataDir: new Blob([from]) }),
    });
    opened = { db, initialized: !from };
  } else {
    opened = await openDurable(dataDir, options, { initial, template, startParams: buffers });
  }
  // Best effort: without a template the next database is only slower to create.
  if (opened.initialized) await saveTemplate(opened.db, file).catch(() => undefined);
  return opened.db;
}

/**
 * Writes db's data directory as the template, whole or not at all (a temporary file renamed).
 * @param {PGlite} db a database nothing has written to since initdb
 * @param {string} file
 */
async function saveTemplate(db, file) {
  const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}-${threadId}.partial`;
  await writeFile(partial, dump);
  await rename(partial, file);
}

/**
 * @param {import('node:worker_threads').MessagePort} port
 * @param {PgliteWorkerData} data
 */
async function serve(port, data) {
  /** @type {PGlite} */
  let db;
  try {
    db = await openDatabase(data.dataDir, data.artifacts, data.initial, data.sharedBuffers);
  } catch (err) {
    port.postMessage(/** @type {PgliteLoadReply} */ ({ type: 'failed', error: errorData(err) }));
    return;
  }

  /** Open transactions by number: the handle, the function that ends it, and its outcome. */
  /** @type {Map<number, { tx: Transaction, end: (commit: boolean) => void, done: Promise<void> }>} */
  const open = new Map();
  let nextTx = 1;

  /** @param {number | undefined} tx */
  const on = (tx) => {
    if (tx === undefined) return db;
    const t = open.get(tx)?.tx;
    if (!t) throw new Error(`no open transaction ${tx}`);
    return t;
  };

  /** @param {PgliteRequest} req */
  const run = async (req) => {
    switch (req.op) {
      case 'query':
        return on(req.tx).query(req.sql, req.params, req.options);
      case 'exec':
        return on(req.tx).exec(req.sql, req.options);
      case 'begin': {
        const id = nextTx++;
        /** @type {(commit: boolean) => void} */
        let end = () => undefined;
        /** @type {Promise<boolean>} */
        const held = new Promise((resolve) => (end = resolve));
        /** @type {(tx: Transaction) => void} */
        let entered = () => undefined;
        /** @type {Promise<Transaction>} */
        const inside = new Promise((resolve) => (entered = resolve));
        // PGlite holds its lock for the callback's whole run: the transaction stays open, and
        // other statements wait, until `end` says how it ends.
        const done = db
          .transaction(async (tx) => {
            entered(tx);
            if (!(await held)) await tx.rollback();
          })
          .finally(() => open.delete(id));
        const tx = await Promise.race([
          inside,
          done.then(() => Promise.reject(new Error('the transaction ended before it began'))),
        ]);
        open.set(id, { tx, end, done });
        return id;
      }
      case 'end': {
        const t = open.get(req.tx);
        if (!t) throw new Error(`no open transaction ${req.tx}`);
        t.end(req.commit);
        await t.done;
        return null;
      }
      case 'dump':
        // A checkpoint first, so that a restored copy opens without replaying WAL; the dump itself
        // is one synchronous read of the files, between two statements (a consistent snapshot).
        await db.exec('CHECKPOINT');
        return new Uint8Array(await (await db.dumpDataDir('none')).arrayBuffer());
      case 'close':
        await db.close();
        return null;
    }
  };

  port.on('message', (/** @type {PgliteRequest} */ req) => {
    // Not awaited one by one: PGlite queues statements itself, and a statement inside an open
    // transaction must not wait behind one that waits for that transaction to end.
    run(req).then(
      (result) =>
        port.postMessage(
          /** @type {PgliteReply} */ ({ id: req.id, result }),
          // A dump (the size of the database) moves to the caller instead of being copied.
          result instanceof Uint8Array ? [result.buffer] : [],
        ),
      (err) => port.postMessage(/** @type {PgliteReply} */ ({ id: req.id, error: errorData(err) })),
    );
  });
  port.postMessage(/** @type {PgliteLoadReply} */ ({ type: 'ready', probe: [] }));
}

if (!isMainThread && parentPort && workerData?.role === 'picard-pglite') void serve(parentPort, workerData);
