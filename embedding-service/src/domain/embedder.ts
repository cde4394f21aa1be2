import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DomainError, embeddingBatchTexts, invalid, type Logger } from '@picard/service-kit';
import type { EmbeddingProvider } from '../providers/embedding-provider.js';
import { MicroBatcher } from './micro-batcher.js';

export const MAX_TEXTS_PER_CALL = 256;
export const MAX_TEXT_CHARS = 50_000;
export const MAX_PROVIDER_BATCH = 64;

export interface EmbedResult {
  vectors: number[][];
  /** How many texts came from the cache. */
  cached: number;
}

export interface EmbedderOptions {
  cacheSize: number;
  logger: Logger;
  /** Parallel provider calls: 1 for a local CPU-bound model, more for a remote API. */
  concurrency?: number;
  lingerMs?: number;
}

export function validateTexts(texts: string[]): void {
  if (texts.length === 0) throw invalid('texts', 'texts must contain at least one text');
  if (texts.length > MAX_TEXTS_PER_CALL) {
    throw invalid('texts', `at most ${MAX_TEXTS_PER_CALL} texts per call (got ${texts.length})`);
  }
  texts.forEach((t, i) => {
    if (t.length === 0) throw invalid(`texts[${i}]`, `texts[${i}] must not be empty`);
    if (t.length > MAX_TEXT_CHARS)
      throw invalid(`texts[${i}]`, `texts[${i}] is longer than ${MAX_TEXT_CHARS} characters`);
  });
}

/**
 * The embedding rules: validate, answer from the LRU cache, share in-flight work for equal
 * texts, and send the rest through one micro-batcher so concurrent calls become one provider call.
 */
export class Embedder {
  private readonly cache?: LRUCache<string, number[]>;
  private readonly inFlight = new Map<string, Promise<number[]>>();
  private readonly batcher: MicroBatcher<string, number[]>;

  constructor(
    readonly provider: EmbeddingProvider,
    private readonly opts: EmbedderOptions,
  ) {
    if (opts.cacheSize > 0) this.cache = new LRUCache({ max: opts.cacheSize });
    this.batcher = new MicroBatcher((texts) => this.callProvider(texts), {
      maxBatch: MAX_PROVIDER_BATCH,
      concurrency: opts.concurrency ?? 1,
      lingerMs: opts.lingerMs ?? 2,
    });
  }

  /** Texts waiting for the provider. */
  get queueDepth(): number {
    return this.batcher.waiting;
  }

  async embed(texts: string[]): Promise<EmbedResult> {
    validateTexts(texts);
    let cached = 0;
    const vectors = await Promise.all(
      texts.map((text) => {
        const key = this.key(text);
        const hit = this.cache?.get(key);
        if (hit) {
          cached++;
          return hit;
        }
        let pending = this.inFlight.get(key);
        if (!pending) {
          pending = this.batcher.submit(text).then(
            (v) => {
              this.inFlight.delete(key);
              this.cache?.set(key, v);
              return v;
            },
            (err: unknown) => {
              this.inFlight.delete(key);
              throw err;
            },
          );
          this.inFlight.set(key, pending);
        }
        return pending;
      }),
    );
    return { vectors, cached };
  }

  private key(text: string): string {
    const { model, dimensions } = this.provider;
    return `${model}/${dimensions}/${createHash('sha256').update(text).digest('hex')}`;
  }

  private async callProvider(texts: string[]): Promise<number[][]> {
    embeddingBatchTexts.observe({ provider: this.provider.name }, texts.length);
    try {
      return await this.provider.embed(texts);
    } catch (err) {
      this.opts.logger.warn(
        { err, provider: this.provider.name, texts: texts.length },
        'embedding provider failed',
      );
      const reason = err instanceof Error ? err.message : String(err);
      throw new DomainError('unavailable', `embedding provider ${this.provider.name} failed: ${reason}`);
    }
  }
}
