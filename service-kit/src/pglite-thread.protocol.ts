/**
 * The messages between pglite-thread.ts and its worker, pglite.worker.mjs (plain JavaScript, which
 * names these types in JSDoc and is type-checked against them).
 */
import type { PGliteOptions, QueryOptions, Results } from '@electric-sql/pglite';

/** A compiled WebAssembly.Module (the project's lib settings do not declare WebAssembly; PGlite's types do). */
export type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;

/** workerData of the database's worker: where the database lives, and a role so importing the file elsewhere starts nothing. */
export interface PgliteWorkerData {
  role: 'picard-pglite';
  dataDir: string;
  artifacts: PgliteArtifacts;
  /** A data directory (dumpDataDir's tar) to create the database from; refused where one exists. */
  initial?: Uint8Array;
  /** PostgreSQL's shared_buffers setting (OpenOptions.sharedBuffers). */
  sharedBuffers?: string;
}

/** PGlite's compiled WebAssembly and file-system bundle, shared by the process's database threads. */
export interface PgliteArtifacts {
  pgliteWasmModule: WasmModule;
  initdbWasmModule: WasmModule;
  fsBundle: Uint8Array;
}

/** Runs on the open transaction `tx` when given, else on its own (waiting for any open transaction). */
export type PgliteRequest =
  | { id: number; op: 'query'; sql: string; params?: unknown[]; options?: QueryOptions; tx?: number }
  | { id: number; op: 'exec'; sql: string; options?: QueryOptions; tx?: number }
  /** Opens a transaction; the reply's result is its number, to name in later requests. */
  | { id: number; op: 'begin' }
  /** Ends transaction `tx`: commits, or rolls back when `commit` is false. */
  | { id: number; op: 'end'; tx: number; commit: boolean }
  /** Checkpoints, then replies with the data directory as an uncompressed tar. */
  | { id: number; op: 'dump' }
  | { id: number; op: 'close' };

/** A database error's message and its fields (code, detail, constraint, …): errors lose own fields in a structured clone. */
export interface PgliteErrorData {
  message: string;
  fields: Record<string, string | number>;
}

export type PgliteReply =
  | { id: number; result: Results | Results[] | Uint8Array | number | null }
  | { id: number; error: PgliteErrorData };

/**
 * Posted once: the database is open (with an empty array, to tell whether replies arrive in this
 * realm), or it could not be (the thread then ends).
 */
export type PgliteLoadReply =
  { type: 'ready'; probe: unknown[] } | { type: 'failed'; error: PgliteErrorData };
