import type { Logger } from '@picard/service-kit';
import { SEALED_TABLES, type KeyRotationStore, type SealedRow } from '../store/key-rotation.store.js';
import type { MemoryCipher, SealedText } from './memory-cipher.js';

export const DEFAULT_ROTATION_BATCH_SIZE = 200;

export interface KeyRotationProgress {
  /** Rows re-encrypted so far in this run. */
  done: number;
  /** Rows that were not under the current key when the run started (grows if writers add more). */
  total: number;
  keyId: string;
}

export interface KeyRotationSummary {
  keyId: string;
  total: number;
  rotated: number;
  /** Rows that could not be opened (key not configured, or tampered): left untouched. */
  failed: number;
  failedIds: string[];
  /** Rows still not under the current key at the end (failed ones included). */
  remaining: number;
  passes: number;
  ms: number;
}

export interface KeyRotationJobOptions {
  store: KeyRotationStore;
  /** Its active key is the target; every old key must still be configured so rows can be opened. */
  cipher: MemoryCipher;
  logger: Logger;
  batchSize?: number;
  /** Passes over the table; rows skipped because a writer held them are retried in the next pass. */
  maxPasses?: number;
}

const MAX_REPORTED_FAILURES = 100;

/**
 * Re-encrypts every memory and history row whose key is not the active one, online, in batches of one
 * transaction each: stopping at any point (crash, error, a throwing progress callback) loses
 * nothing, and running again continues with the rows still under an old key. Run it after every
 * instance has been given the new key as active, or they keep sealing new rows with the old one.
 */
export class KeyRotationJob {
  private readonly batchSize: number;
  private readonly maxPasses: number;

  constructor(private readonly opts: KeyRotationJobOptions) {
    this.batchSize = opts.batchSize ?? DEFAULT_ROTATION_BATCH_SIZE;
    this.maxPasses = opts.maxPasses ?? 5;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1)
      throw new Error('rotation batch size must be a positive integer');
  }

  async run(
    run: { onProgress?: (p: KeyRotationProgress) => void | Promise<void>; signal?: AbortSignal } = {},
  ): Promise<KeyRotationSummary> {
    const { store, cipher, logger } = this.opts;
    const keyId = cipher.activeKeyId;
    const started = performance.now();
    let total = await store.countStale(keyId);
    let done = 0;
    let passes = 0;
    const failed = new Set<string>();
    const reseal = (row: SealedRow): SealedText | undefined => {
      try {
        return cipher.seal(row.memoryId, row.sealed.ownerId, cipher.open(row.memoryId, row.sealed));
      } catch (err) {
        logger.warn(
          { memoryId: row.memoryId, rowId: row.id, keyId: row.sealed.keyId, err: (err as Error).message },
          'key rotation could not open a memory',
        );
        return undefined;
      }
    };
    logger.info({ keyId, total }, 'key rotation started');

    let remaining = total;
    while (remaining > failed.size && passes < this.maxPasses) {
      passes++;
      let rotatedThisPass = 0;
      // Memories first, then their earlier versions; each table by its own keyset.
      for (const { table } of SEALED_TABLES) {
        let after: string | undefined;
        for (;;) {
          run.signal?.throwIfAborted();
          const batch = await store.rotateBatch(keyId, after, this.batchSize, reseal, table);
          if (batch.seen === 0) break;
          batch.failedIds.forEach((id) => failed.add(id));
          done += batch.rewritten;
          rotatedThisPass += batch.rewritten;
          total = Math.max(total, done);
          after = batch.lastId;
          await run.onProgress?.({ done, total, keyId });
        }
      }
      remaining = await store.countStale(keyId);
      // No progress in a whole pass: what is left is failing or held by long transactions.
      if (rotatedThisPass === 0) break;
    }

    const summary: KeyRotationSummary = {
      keyId,
      total,
      rotated: done,
      failed: failed.size,
      failedIds: [...failed].slice(0, MAX_REPORTED_FAILURES),
      remaining,
      passes,
      ms: Math.round(performance.now() - started),
    };
    logger.info({ ...summary, failedIds: undefined }, 'key rotation finished');
    return summary;
  }
}
