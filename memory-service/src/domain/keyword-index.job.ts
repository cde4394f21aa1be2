import type { Logger } from '@picard/service-kit';
import type { KeywordStore } from '../store/keyword.store.js';
import type { KeywordHasher } from './keyword-hasher.js';
import type { MemoryCipher } from './memory-cipher.js';

export interface KeywordIndexSummary {
  keyId: string;
  indexed: number;
  /** Memories whose text could not be opened (key not configured, or tampered): left unindexed. */
  failed: number;
  remaining: number;
  ms: number;
}

/**
 * Brings the blind keyword index up to date: memories written before it existed, and every memory
 * after the active key changed (the index key rotates with the text key). Online, in batches of
 * one transaction, so stopping anywhere loses nothing and the next start continues. Until a
 * memory is re-indexed, queries still find it: they blind their terms under every configured key.
 */
export class KeywordIndexJob {
  constructor(
    private readonly opts: {
      store: KeywordStore;
      cipher: MemoryCipher;
      hasher: KeywordHasher;
      logger: Logger;
      batchSize?: number;
      maxPasses?: number;
    },
  ) {}

  async run(signal?: AbortSignal): Promise<KeywordIndexSummary> {
    const { store, cipher, hasher, logger } = this.opts;
    const keyId = hasher.activeKeyId;
    const started = performance.now();
    let remaining = await store.countStale(keyId);
    const failed = new Set<string>();
    let indexed = 0;
    if (remaining > 0) logger.info({ keyId, remaining }, 'keyword index: indexing memories');
    for (let pass = 0; remaining > failed.size && pass < (this.opts.maxPasses ?? 5); pass++) {
      let after: string | undefined;
      let progress = 0;
      for (;;) {
        signal?.throwIfAborted();
        const batch = await store.indexBatch(keyId, after, this.opts.batchSize ?? 200, (row) => {
          try {
            return hasher.index(cipher.open(row.id, row.sealed));
          } catch (err) {
            logger.warn(
              { memoryId: row.id, err: (err as Error).message },
              'keyword index: cannot open a memory',
            );
            return undefined;
          }
        });
        if (batch.seen === 0) break;
        batch.failedIds.forEach((id) => failed.add(id));
        indexed += batch.indexed;
        progress += batch.indexed;
        after = batch.lastId;
      }
      remaining = await store.countStale(keyId);
      if (progress === 0) break;
    }
    if (indexed > 0) store.forgetStats();
    const summary = {
      keyId,
      indexed,
      failed: failed.size,
      remaining,
      ms: Math.round(performance.now() - started),
    };
    if (indexed > 0 || failed.size > 0) logger.info(summary, 'keyword index: up to date');
    return summary;
  }
}
