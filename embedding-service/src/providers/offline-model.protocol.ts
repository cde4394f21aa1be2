/**
 * The messages between offline-use.provider.ts and its worker thread, offline-model.worker.mjs
 * (plain JavaScript, which names these types in JSDoc and is type-checked against them).
 */

/** workerData.role of the model's worker, so that importing the worker module elsewhere starts nothing. */
export const WORKER_ROLE = 'picard-offline-embedding-model';
export type WorkerRole = typeof WORKER_ROLE;

/** How the model threads run (EMBEDDING_OFFLINE_NICE, EMBEDDING_OFFLINE_BLAS). */
export interface ModelThreadSettings {
  /** The thread's nice value (0-19; Linux, where it is per thread): see DEFAULT_MODEL_NICE. */
  nice: number;
  /** Whether the matrix products may run on OpenBLAS when it is there (native-matmul.mjs). */
  blas: boolean;
}

/** What the worker is started with. */
export interface ModelWorkerData extends ModelThreadSettings {
  role: WorkerRole;
}

export interface EmbedRequest {
  id: number;
  texts: string[];
}
/** Test-only: the worker throws an uncaught error, as a fault in the model's code would. */
export interface CrashRequest {
  type: 'crash';
}
export type WorkerRequest = EmbedRequest | CrashRequest;

/** `count` rows of `dimensions` values, row-major: the model's float32 output, exactly. */
export interface EmbedResult {
  vectors: Float32Array<ArrayBuffer>;
  count: number;
  dimensions: number;
}
/** The answer to the EmbedRequest of the same id; the vectors' buffer is transferred, not copied. */
export type EmbedReply = ({ id: number } & EmbedResult) | { id: number; error: string };
/** Posted once: the model is loaded, or it could not be (the owner then ends the thread). */
export type LoadReply =
  /** `matrixProducts`: where the model's matrix products run, for the logs ("OpenBLAS …" or why not). */
  { type: 'ready'; matrixProducts: string } | { type: 'failed'; error: string };
export type WorkerReply = EmbedReply | LoadReply;
