import type { EmbeddingConfig } from '../config.js';
import type { EmbeddingProvider } from './embedding-provider.js';
import { createOfflineUseProvider } from './offline-use.provider.js';

/** The configured provider, ready to embed (the offline model is loaded here). */
export async function createProvider(config: EmbeddingConfig): Promise<EmbeddingProvider> {
  if (config.EMBEDDING_PROVIDER === 'openai') {
    // The openai client loads only for this provider: with the offline model it is ~70 ms of start-up.
    const { createOpenAiProvider } = await import('./openai.provider.js');
    return createOpenAiProvider({
      apiKey: config.OPENAI_API_KEY!,
      baseURL: config.OPENAI_BASE_URL,
      model: config.EMBEDDING_MODEL,
      dimensions: config.EMBEDDING_DIMENSIONS,
      timeoutMs: config.EMBEDDING_TIMEOUT_MS,
    });
  }
  return createOfflineUseProvider({
    workers: config.EMBEDDING_OFFLINE_WORKERS,
    nice: config.EMBEDDING_OFFLINE_NICE,
    blas: config.EMBEDDING_OFFLINE_BLAS === 'auto',
  });
}
