import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { checkShape, normalize, type EmbeddingProvider } from './embedding-provider.js';
import {
  WORKER_ROLE,
  type EmbedResult,
  type ModelThreadSettings,
  type ModelWorkerData,
  type WorkerReply,
  type WorkerRequest,
} from './offline-model.protocol.js';

export const OFFLINE_MODEL = 'universal-sentence-encoder-lite';
export const OFFLINE_DIMENSIONS = 512;

// Beside this file in src/ (jest, tsx) and in dist/ (the build emits it there).
const WORKER_FILE = fileURLToPath(new URL('./offline-model.worker.mjs', import.meta.url));

interface Pending {
  resolve(reply: EmbedResult): void;
  reject(err: Error): void;
}

/**
 * One worker thread holding the model. Any fault (the thread exits or throws) rejects what is
 * pending, and the next call starts a new worker. The thread keeps the process alive only while
 * it loads or works, so an idle model never holds up exit.
 */
class ModelWorker {
  readonly worker: Worker;
  /** Settles when the model is loaded in the worker (rejects if it cannot be, or the worker dies first). */
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private loaded = false;
  /** Where the model's matrix products run, as the worker reported once loaded. */
  matrixProducts = '';
  private gone?: Error;
  private markReady!: () => void;
  private markFailed!: (err: Error) => void;

  constructor(
    settings: ModelThreadSettings,
    private readonly onGone: (w: ModelWorker) => void,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    // Awaited by callers; a load nobody waits for (a preload) must not be an unhandled rejection.
    this.ready.catch(() => undefined);
    // No inherited node flags: the worker is plain JavaScript and needs no loader (tsx, jest's), and
    // some flags of the parent do not apply to a worker file (`node --input-type=module -e`).
    const workerData: ModelWorkerData = { role: WORKER_ROLE, ...settings };
    // OpenBLAS, when the worker opens it, would start a thread pool of its own (one thread per
    // further core); each model thread already has a core and runs its products itself. Set in
    // the process's real environment, which the library reads (a worker's process.env is a copy).
    if (settings.blas) process.env.OPENBLAS_NUM_THREADS ??= '1';
    this.worker = new Worker(WORKER_FILE, { workerData, execArgv: [] });
    this.worker.on('message', (msg: WorkerReply) => this.onMessage(msg));
    this.worker.on('error', (err) => this.fail(new Error(`offline model worker crashed: ${err.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`offline model worker exited (code ${code})`)));
  }

  /** The model is loaded and the worker answers. */
  get modelLoaded(): boolean {
    return this.loaded && !this.gone;
  }

  /** Calls sent and not yet answered. */
  get busy(): number {
    return this.pending.size;
  }

  embed(texts: string[]): Promise<EmbedResult> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, texts } satisfies WorkerRequest);
    });
  }

  /** Ends the worker; whatever is pending rejects. */
  async stop(): Promise<void> {
    this.fail(new Error('offline model worker stopped'));
    await this.worker.terminate();
  }

  private onMessage(msg: WorkerReply) {
    if ('type' in msg) {
      if (msg.type === 'ready') {
        this.loaded = true;
        this.matrixProducts = msg.matrixProducts;
        this.markReady();
        this.idleCheck();
      } else {
        this.fail(new Error(`offline model failed to load: ${msg.error}`));
        void this.worker.terminate();
      }
      return;
    }
    const pending = this.pending.get(msg.id);
    if (!pending) return;
    this.pending.delete(msg.id);
    this.idleCheck();
    if ('error' in msg) pending.reject(new Error(`offline model: ${msg.error}`));
    else pending.resolve(msg);
  }

  private idleCheck() {
    if (this.loaded && this.pending.size === 0) this.worker.unref();
  }

  private fail(err: Error) {
    if (this.gone) return;
    this.gone = err;
    this.markFailed(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.onGone(this);
  }
}

/**
 * Batches at least this large are split over the two workers, one per core: an import or a
 * `submit_memories` call embeds about twice as fast. A smaller batch (a query, a few texts merged by
 * the micro-batcher) goes whole to one worker, where it costs least per text; two of them (two
 * calls in flight) run on the two workers at once.
 */
export const SPLIT_BATCH = 16;

/** Model workers a provider may use unless told: one per core of a 2-core machine. */
export const DEFAULT_OFFLINE_WORKERS = 2;

/**
 * The model threads' nice value unless told. A model call is 10-100 ms of CPU; the HTTP, gRPC and
 * database work of the requests in flight is short and on every request's path. At 16 concurrent
 * searches on 2 cores (the scale benchmark, 100,000 memories) a lower model priority cut the mean
 * latency by ~5 % (eight paired runs); the model still gets every core nothing else wants.
 */
export const DEFAULT_MODEL_NICE = 10;

interface WorkerSettings {
  /** 1: one model thread (~240 MB less memory, half the throughput of a large batch); 2: two. */
  workers?: number;
  /** The model threads' nice value, 0 (the process's priority) to 19 (lowest); Linux only. */
  nice?: number;
  /** false: the matrix products stay on WebAssembly even where OpenBLAS is installed. */
  blas?: boolean;
}

// One model per worker per process (~240 MB each), shared by every provider: the embedded launcher
// or a test may start the service more than once. Providers count as users; the last one to close
// ends the workers. The second worker starts when there is work for it (a batch large enough to
// split, or a call while the first is busy), so a process that only ever embeds one call at a
// time (or a start) pays neither its memory nor its load.
const workers: (ModelWorker | undefined)[] = [undefined, undefined];
let users = 0;

/** The worker in `slot`, started (with the settings of whoever asked first) if there is none. */
function modelWorker(slot: 0 | 1, settings: ModelThreadSettings): ModelWorker {
  const existing = workers[slot];
  if (existing) return existing;
  const started = new ModelWorker(settings, (gone) => {
    if (workers[slot] === gone) workers[slot] = undefined;
  });
  workers[slot] = started;
  return started;
}

/**
 * The flat rows of the model's reply as vectors. Copied in a loop: `Array.from` of a typed array goes
 * through its iterator, one result object per number (~40 KB of garbage a vector, the largest
 * allocation on a search's path).
 */
function rowsOf({ vectors: flat, count, dimensions }: EmbedResult): number[][] {
  const rows: number[][] = [];
  for (let i = 0, at = 0; i < count; i++) {
    const row = new Array<number>(dimensions);
    for (let j = 0; j < dimensions; j++, at++) row[j] = flat[at]!;
    rows.push(row);
  }
  return rows;
}

/**
 * Embeds on the first worker; on the second when the first is busy and the second idle; or, for a
 * large batch while the second is loaded, on both at once. A second worker still loading is not
 * waited for: the call queues on the first.
 */
async function embedOnWorkers(
  texts: string[],
  count: number,
  settings: ModelThreadSettings,
): Promise<number[][]> {
  // After a crash this starts a new worker (and waits for its model).
  const first = modelWorker(0, settings);
  await first.ready;
  if (count < 2) return rowsOf(await first.embed(texts));
  const wantsSecond = texts.length >= SPLIT_BATCH || first.busy > 0;
  const second = wantsSecond ? modelWorker(1, settings) : workers[1];
  if (!second?.modelLoaded) return rowsOf(await first.embed(texts));
  if (texts.length < SPLIT_BATCH) {
    const idler = second.busy < first.busy ? second : first;
    return rowsOf(await idler.embed(texts));
  }
  const half = Math.ceil(texts.length / 2);
  const parts = await Promise.all([first.embed(texts.slice(0, half)), second.embed(texts.slice(half))]);
  return parts.flatMap(rowsOf);
}

/**
 * Starts loading the model in its worker without waiting, so the caller can do other start-up
 * work meanwhile (the embedded launcher opens its databases). createOfflineUseProvider then
 * waits for this same load; a failure surfaces there.
 */
export function preloadOfflineModel({
  nice = DEFAULT_MODEL_NICE,
  blas = true,
}: Pick<WorkerSettings, 'nice' | 'blas'> = {}): void {
  modelWorker(0, { nice, blas });
}

/**
 * Google's Universal Sentence Encoder (lite) running locally on the tfjs WebAssembly backend, in a
 * worker thread: no network, 512 dimensions, unit-length vectors. Resolves once the model is
 * loaded.
 */
export async function createOfflineUseProvider({
  workers: threads = DEFAULT_OFFLINE_WORKERS,
  nice = DEFAULT_MODEL_NICE,
  blas = true,
}: WorkerSettings = {}): Promise<EmbeddingProvider> {
  const settings = { nice, blas };
  // Counted before waiting, so a provider closing meanwhile does not end the worker being loaded.
  users++;
  let first: ModelWorker;
  try {
    first = modelWorker(0, settings);
    await first.ready;
  } catch (err) {
    users--;
    throw err;
  }
  let closed = false;
  return {
    name: 'offline',
    model: OFFLINE_MODEL,
    dimensions: OFFLINE_DIMENSIONS,
    parallelism: threads,
    runtime: `matrix products on ${first.matrixProducts}`,
    async embed(texts) {
      const vectors = await embedOnWorkers(texts, threads, settings);
      checkShape('offline model', texts, vectors, OFFLINE_DIMENSIONS);
      // Already unit length up to float error; normalising keeps the contract exact.
      for (const v of vectors) normalize(v);
      return vectors;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (--users === 0) await Promise.all(workers.map((w) => w?.stop()));
    },
  };
}

/** Test hooks: a worker thread (the first unless told), to crash or end it. */
export const offlineModelForTests = {
  worker: (slot: 0 | 1 = 0): Worker | undefined => workers[slot]?.worker,
  /** Settles when that worker's model is loaded (undefined: no such worker). */
  ready: (slot: 0 | 1 = 0): Promise<void> | undefined => workers[slot]?.ready,
  /** Makes the first worker throw an uncaught error, as a fault in the model's code would. */
  crash: () => workers[0]?.worker.postMessage({ type: 'crash' } satisfies WorkerRequest),
};
