import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { QueryOptions, Results } from '@electric-sql/pglite';
import type {
  PgliteErrorData,
  PgliteLoadReply,
  PgliteReply,
  PgliteRequest,
  PgliteWorkerData,
  PgliteArtifacts,
  WasmModule,
} from './pglite-thread.protocol.js';

// Beside this file in src/ (jest, tsx) and in dist/ (the build emits it there).
const WORKER_FILE = fileURLToPath(new URL('./pglite.worker.mjs', import.meta.url));

let artifacts: Promise<PgliteArtifacts> | undefined;
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };
};

/**
 * PGlite's WebAssembly, compiled once per process and handed to every database thread (a compiled
 * module crosses threads without recompiling), with its file-system bundle read once.
 */
function pgliteArtifacts(): Promise<PgliteArtifacts> {
  artifacts ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [pgliteWasmModule, initdbWasmModule, fsBundle] = await Promise.all([
      readFile(join(dist, 'pglite.wasm')).then((b) => WebAssembly.compile(b)),
      readFile(join(dist, 'initdb.wasm')).then((b) => WebAssembly.compile(b)),
      readFile(join(dist, 'pglite.data')),
    ]);
    return { pgliteWasmModule, initdbWasmModule, fsBundle };
  })();
  // A failed read is retried by the next database rather than remembered.
  artifacts.catch(() => (artifacts = undefined));
  return artifacts;
}

/** What a statement can run on: the database, or one open transaction of it. */
export interface EmbeddedQueryable {
  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(sql: string, options?: QueryOptions): Promise<Results[]>;
}

/**
 * The part of PGlite's API Picard uses (knex-pglite's connection, tests, benchmarks), so a database
 * in another thread can stand where a PGlite stood.
 */
export interface EmbeddedDatabase extends EmbeddedQueryable {
  readonly waitReady: Promise<void>;
  readonly closed: boolean;
  transaction<T>(fn: (tx: EmbeddedQueryable) => Promise<T>): Promise<T>;
  /**
   * The data directory as an uncompressed tar, after a checkpoint: a consistent snapshot holding
   * every transaction committed before it (backups; `openPglite(dir, { initial })` restores it).
   */
  dumpDataDir(): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Creates the database from this dump (dumpDataDir's tar); refused where a database exists. */
  initial?: Uint8Array;
  /**
   * PostgreSQL's shared_buffers (`'16MB'`); its default (128 MB) when unset. PGlite sets the whole
   * pool up at every open, ~80 ms of CPU for 128 MB: a small database opens faster with less.
   */
  sharedBuffers?: string;
}

/** A database error as the worker described it, with the fields (code, constraint, …) callers branch on. */
function databaseError(data: PgliteErrorData): Error {
  return Object.assign(new Error(data.message), data.fields, { message: data.message });
}

/**
 * The value rebuilt from this module's own globals. Messages deserialize in Node's main context;
 * under a vm sandbox (jest runs every suite in one) their arrays and dates would fail `instanceof`
 * checks (@node-oauth/oauth2-server's `grants instanceof Array`). Used only when the worker's
 * probe array arrives foreign, so outside a sandbox nothing is copied.
 */
function inThisRealm(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return Array.from(value, inThisRealm);
  if (Object.prototype.toString.call(value) === '[object Date]') return new Date((value as Date).getTime());
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inThisRealm(v)]));
}

type Request = PgliteRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/**
 * An embedded PostgreSQL (PGlite + pgvector) running in its own worker thread: its statements
 * execute beside the event loop instead of on it, and several databases work on several cores.
 * Same results as an in-thread PGlite (rows come back by structured clone: dates, bytes, numbers,
 * JSON as PGlite parsed them). The thread keeps the process alive only while a request is pending.
 */
export class PGliteThread implements EmbeddedDatabase {
  readonly waitReady: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private gone?: Error;
  /** Whether replies arrive from another realm than this module's (see inThisRealm). */
  private foreignRealm = false;

  private constructor(dataDir: string, artifacts: PgliteArtifacts, opts: OpenOptions) {
    const workerData: PgliteWorkerData = {
      role: 'picard-pglite',
      dataDir,
      artifacts,
      initial: opts.initial,
      sharedBuffers: opts.sharedBuffers,
    };
    // No inherited node flags: the worker is plain JavaScript and needs no loader (tsx, jest's).
    this.worker = new Worker(WORKER_FILE, { workerData, execArgv: [] });
    this.waitReady = new Promise<void>((resolve, reject) => {
      const onLoad = (msg: PgliteLoadReply | PgliteReply) => {
        if (!('type' in msg)) return;
        this.worker.off('message', onLoad);
        if (msg.type === 'ready') {
          this.foreignRealm = !(msg.probe instanceof Array);
          resolve();
        } else {
          reject(databaseError(msg.error));
          void this.worker.terminate();
        }
      };
      this.worker.on('message', onLoad);
      this.worker.once('exit', (code) => reject(new Error(`embedded database thread exited (code ${code})`)));
    });
    this.waitReady.catch(() => undefined);
    this.worker.on('message', (msg: PgliteLoadReply | PgliteReply) => {
      if ('id' in msg) this.settle(msg);
    });
    this.worker.on('error', (err) =>
      this.fail(new Error(`embedded database thread crashed: ${err.message}`)),
    );
    this.worker.on('exit', (code) => this.fail(new Error(`embedded database thread exited (code ${code})`)));
  }

  /** Opens (or creates) the database in `dataDir` (`memory://` keeps it in RAM) in a new thread. */
  static async open(dataDir: string, opts: OpenOptions = {}): Promise<PGliteThread> {
    const db = new PGliteThread(dataDir, await pgliteArtifacts(), opts);
    await db.waitReady;
    db.worker.unref();
    return db;
  }

  get closed(): boolean {
    return this.gone !== undefined;
  }

  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.request({ op: 'query', sql, params, options }) as Promise<Results<T>>;
  }

  exec(sql: string, options?: QueryOptions): Promise<Results[]> {
    return this.request({ op: 'exec', sql, options }) as Promise<Results[]>;
  }

  async transaction<T>(fn: (tx: EmbeddedQueryable) => Promise<T>): Promise<T> {
    const tx = (await this.request({ op: 'begin' })) as number;
    const inTx: EmbeddedQueryable = {
      query: <R>(sql: string, params?: unknown[], options?: QueryOptions) =>
        this.request({ op: 'query', sql, params, options, tx }) as Promise<Results<R>>,
      exec: (sql: string, options?: QueryOptions) =>
        this.request({ op: 'exec', sql, options, tx }) as Promise<Results[]>,
    };
    let result: T;
    try {
      result = await fn(inTx);
    } catch (err) {
      await this.request({ op: 'end', tx, commit: false }).catch(() => undefined);
      throw err;
    }
    await this.request({ op: 'end', tx, commit: true });
    return result;
  }

  dumpDataDir(): Promise<Uint8Array> {
    return this.request({ op: 'dump' }) as Promise<Uint8Array>;
  }

  async close(): Promise<void> {
    if (this.gone) return;
    await this.request({ op: 'close' }).catch(() => undefined);
    this.fail(new Error('embedded database closed'));
    await this.worker.terminate();
  }

  private request(req: Request): Promise<unknown> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...req, id } as PgliteRequest);
    });
  }

  private settle(msg: PgliteReply) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in msg) p.reject(databaseError(msg.error));
    else p.resolve(this.foreignRealm ? inThisRealm(msg.result) : msg.result);
  }

  private fail(err: Error) {
    if (this.gone) return;
    this.gone = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
