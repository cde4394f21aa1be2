import { DomainError, PeriodicJob, type Logger } from '@picard/service-kit';
import type { Embeddings } from '../clients/embedding.client.js';
import type { PendingEmbeddingStore } from '../store/pending-embedding.store.js';
import type { MemoryCipher } from './memory-cipher.js';

const BATCH = 64;
/** Unreadable rows named in the log and the result; the rest are counted. */
const MAX_REPORTED = 20;

export interface PendingPass {
  embedded: number;
  /** Memories still without a vector (the unreadable ones included). */
  remaining: number;
  /** Rows whose text could not be opened (wrong key, tampered): skipped, never retried in this pass. */
  unreadable: number;
  unreadableIds: string[];
}

/**
 * Fills in the vectors of memories written while the embedder was down. Runs on a timer; a run
 * stops at the first embedder failure and waits for the next tick, so an outage costs one call per
 * interval, not one per memory.
 */
export class PendingEmbeddingRetry {
  private readonly job: PeriodicJob<PendingPass>;

  constructor(
    private readonly opts: {
      store: PendingEmbeddingStore;
      cipher: MemoryCipher;
      embeddings: Embeddings;
      logger: Logger;
      intervalSeconds: number;
    },
  ) {
    this.job = new PeriodicJob({
      name: 'pending embeddings pass',
      logger: opts.logger,
      run: () => this.pass(),
      everyMs: opts.intervalSeconds * 1000,
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass over every pending memory; concurrent callers share the pass in progress. */
  runOnce(): Promise<PendingPass> {
    return this.job.runNow();
  }

  private async pass(): Promise<PendingPass> {
    const { store, cipher, embeddings, logger } = this.opts;
    let embedded = 0;
    const unreadable: string[] = [];
    let after: string | undefined;
    for (;;) {
      const rows = await store.next(BATCH, after);
      if (rows.length === 0) break;
      after = rows.at(-1)!.id;
      // One row that cannot be opened must not hold back the rest of its batch, or every later one.
      const readable: { row: (typeof rows)[number]; text: string }[] = [];
      for (const row of rows) {
        try {
          readable.push({ row, text: cipher.open(row.id, row.sealed) });
        } catch (err) {
          unreadable.push(row.id);
          logger.error({ err, memoryId: row.id }, 'pending embeddings: cannot open this memory; skipped');
        }
      }
      if (readable.length === 0) continue;
      let vectors: number[][];
      try {
        vectors = await embeddings.embed(readable.map((r) => r.text));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        logger.warn({ err: err.message }, 'pending embeddings: embedder still failing, retrying later');
        break;
      }
      for (const [i, { row }] of readable.entries()) {
        if (await store.fill(row.id, row.sealed.iv, vectors[i]!, embeddings.info.model)) embedded++;
      }
    }
    const remaining = await store.count();
    if (embedded) logger.info({ embedded, remaining }, 'pending embeddings filled in');
    if (unreadable.length) {
      logger.error(
        { unreadable: unreadable.length, memoryIds: unreadable.slice(0, MAX_REPORTED) },
        'pending embeddings: memories that cannot be opened stay without a vector',
      );
    }
    return {
      embedded,
      remaining,
      unreadable: unreadable.length,
      unreadableIds: unreadable.slice(0, MAX_REPORTED),
    };
  }
}
