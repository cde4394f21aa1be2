import { DomainError, type Logger } from '@picard/service-kit';
import type { EmbeddingConfig } from '../config.js';
import type { EmbeddingProvider } from '../providers/embedding-provider.js';
import {
  createOfflineUseProvider,
  OFFLINE_DIMENSIONS,
  OFFLINE_MODEL,
} from '../providers/offline-use.provider.js';
import { Embedder } from './embedder.js';

/**
 * The configured model, plus any other model this service can reach, made on first use: the offline
 * model is always available, and with an OpenAI key any model of that API. memory-service asks for
 * the previous model while it re-embeds everything after a model change.
 */
export class ModelRegistry {
  private readonly others = new Map<string, Promise<Embedder>>();

  constructor(
    readonly configured: Embedder,
    private readonly config: EmbeddingConfig,
    private readonly logger: Logger,
  ) {}

  async embedderFor(model: string, dimensions: number): Promise<Embedder> {
    const { provider } = this.configured;
    if (!model || (model === provider.model && (!dimensions || dimensions === provider.dimensions)))
      return this.configured;
    const key = `${model}/${dimensions}`;
    let found = this.others.get(key);
    if (!found) {
      found = this.create(model, dimensions).then(
        (p) => new Embedder(p, { cacheSize: 1000, logger: this.logger }),
      );
      found.catch(() => this.others.delete(key));
      this.others.set(key, found);
    }
    return found;
  }

  /** Closes the providers made here (the configured one belongs to whoever created it). */
  async close(): Promise<void> {
    const made = [...this.others.values()];
    this.others.clear();
    for (const found of made) {
      const embedder = await found.catch(() => undefined);
      await embedder?.provider.close?.();
    }
  }

  private async create(model: string, dimensions: number): Promise<EmbeddingProvider> {
    if (model === OFFLINE_MODEL) {
      if (dimensions && dimensions !== OFFLINE_DIMENSIONS) {
        throw new DomainError(
          'invalid_argument',
          `${OFFLINE_MODEL} has ${OFFLINE_DIMENSIONS} dimensions, not ${dimensions}`,
          'dimensions',
        );
      }
      return createOfflineUseProvider({
        workers: this.config.EMBEDDING_OFFLINE_WORKERS,
        nice: this.config.EMBEDDING_OFFLINE_NICE,
        blas: this.config.EMBEDDING_OFFLINE_BLAS === 'auto',
      });
    }
    if (!this.config.OPENAI_API_KEY) {
      throw new DomainError(
        'unprocessable',
        `model "${model}" is not served here: only ${this.configured.provider.model} and ${OFFLINE_MODEL} (set OPENAI_API_KEY for OpenAI models)`,
        'model',
      );
    }
    this.logger.info({ model, dimensions }, 'serving another embedding model on request');
    const { createOpenAiProvider } = await import('../providers/openai.provider.js');
    return createOpenAiProvider({
      apiKey: this.config.OPENAI_API_KEY,
      baseURL: this.config.OPENAI_BASE_URL,
      model,
      dimensions: dimensions || this.config.EMBEDDING_DIMENSIONS,
      timeoutMs: this.config.EMBEDDING_TIMEOUT_MS,
    });
  }
}
