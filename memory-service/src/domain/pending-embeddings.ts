import { DomainError, type Logger } from '@picard/service-kit';
import type { Embeddings } from '../clients/embedding.client.js';
import type { PendingEmbeddingStore } from '../store/pending-embedding.store.js';
import type { MemoryCipher } from './memory-cipher.js';

const BATCH = 64;

/**
 * Fills in the vectors of memories written while the embedder was down. Runs on a timer; a run
 * stops at the first embedder failure and waits for the next tick, so an outage costs one call per
 * interval, not one per memory.
 */
export class PendingEmbeddingRetry {
  private timer?: NodeJS.Timeout;
  private running?: Promise<{ embedded: number; remaining: number }>;

  constructor(
    private readonly opts: {
      store: PendingEmbeddingStore;
      cipher: MemoryCipher;
      embeddings: Embeddings;
      logger: Logger;
      intervalSeconds: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(
      () => void this.runOnce().catch(() => undefined),
      this.opts.intervalSeconds * 1000,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over every pending memory; concurrent callers share the pass in progress. */
  runOnce(): Promise<{ embedded: number; remaining: number }> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<{ embedded: number; remaining: number }> {
    const { store, cipher, embeddings, logger } = this.opts;
    let embedded = 0;
    let after: string | undefined;
    for (;;) {
      const rows = await store.next(BATCH, after);
      if (rows.length === 0) break;
      after = rows.at(-1)!.id;
      let vectors: number[][];
      try {
        vectors = await embeddings.embed(rows.map((r) => cipher.open(r.id, r.sealed)));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        logger.warn({ err: err.message }, 'pending embeddings: embedder still failing, retrying later');
        break;
      }
      for (const [i, row] of rows.entries()) {
        if (await store.fill(row.id, row.sealed.iv, vectors[i]!, embeddings.info.model)) embedded++;
      }
    }
    const remaining = await store.count();
    if (embedded) logger.info({ embedded, remaining }, 'pending embeddings filled in');
    return { embedded, remaining };
  }
}
