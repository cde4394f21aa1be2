import { PeriodicJob, type Logger } from '@picard/service-kit';
import type { MemoryHistoryStore } from '../store/memory-history.store.js';
import type { SweeperStore } from '../store/sweeper.store.js';

export const DEFAULT_EXPIRY_GRACE_SECONDS = 7 * 24 * 3600;
export const DEFAULT_SWEEP_INTERVAL_SECONDS = 300;
export const DEFAULT_SWEEP_BATCH_SIZE = 500;
/** Per-day search counts (the activity dashboard shows 30 days) are kept this long, then dropped. */
export const SEARCH_DAYS_KEPT = 400;
/** An import can be resumed (its batches skipped) this long; then its record goes. */
export const IMPORT_BATCHES_KEPT_DAYS = 7;

export interface ExpirySweeperOptions {
  store: SweeperStore;
  logger: Logger;
  /** MEMORY_EXPIRY_GRACE_SECONDS: how long an expired memory is kept (hidden) before deletion. */
  graceSeconds?: number;
  /** MEMORY_SWEEP_INTERVAL_SECONDS: pause between runs of the timer. */
  intervalSeconds?: number;
  batchSize?: number;
  /** Called after each batch committed, e.g. to nudge the outbox relay. */
  onCommitted?: (deleted: number) => void;
  /** The first run also cuts every history to MEMORY_HISTORY_MAX_VERSIONS (it may have been lowered). */
  history?: { store: MemoryHistoryStore; maxVersions: number };
}

/**
 * Deletes memories whose expiry is older than the grace period. Expired memories are already
 * invisible to reads; the grace period leaves the owner time to see (`expired: "include"`) and
 * extend them. Each batch is its own transaction, so a crash loses no event and repeats no delete.
 * Each run also drops per-day search counts older than SEARCH_DAYS_KEPT and imports' batch records
 * older than IMPORT_BATCHES_KEPT_DAYS; the first run of a process also drops earlier versions beyond
 * the history's cap (a change keeps its own memory's history within it, so only a cap lowered since
 * the last start leaves any).
 */
export class ExpirySweeper {
  readonly graceSeconds: number;
  readonly intervalMs: number;
  readonly batchSize: number;
  private readonly job: PeriodicJob<{ deleted: number }>;
  /** Set by stop(): a run in progress ends after its current batch. */
  private halted = false;
  private historyCut = false;

  constructor(private readonly opts: ExpirySweeperOptions) {
    this.graceSeconds = opts.graceSeconds ?? DEFAULT_EXPIRY_GRACE_SECONDS;
    this.intervalMs = (opts.intervalSeconds ?? DEFAULT_SWEEP_INTERVAL_SECONDS) * 1000;
    this.batchSize = opts.batchSize ?? DEFAULT_SWEEP_BATCH_SIZE;
    if (!Number.isFinite(this.graceSeconds) || this.graceSeconds < 0)
      throw new Error('expiry grace must be >= 0 seconds');
    if (!(this.intervalMs > 0)) throw new Error('sweep interval must be > 0 seconds');
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1)
      throw new Error('sweep batch size must be a positive integer');
    this.job = new PeriodicJob({
      name: 'expiry sweep',
      logger: opts.logger,
      run: () => this.sweep(),
      everyMs: this.intervalMs,
      firstAfterMs: Math.min(this.intervalMs, 5_000),
    });
  }

  /** Sweeps until no expired row is left (or stop() is called); a call during a run joins it. */
  runOnce(): Promise<{ deleted: number }> {
    return this.job.runNow();
  }

  private async sweep(): Promise<{ deleted: number }> {
    let deleted = 0;
    for (;;) {
      const swept = await this.opts.store.deleteExpiredBatch(this.graceSeconds, this.batchSize, new Date());
      deleted += swept.length;
      if (swept.length) this.opts.onCommitted?.(swept.length);
      // A wound-down service stops between batches; the rest waits for the next run.
      if (swept.length < this.batchSize || this.halted) break;
    }
    if (deleted)
      this.opts.logger.info({ deleted, graceSeconds: this.graceSeconds }, 'expired memories deleted');
    // One indexed DELETE per run; at most a day's rows per user go each time.
    const pruned = await this.opts.store.deleteSearchDaysBefore(SEARCH_DAYS_KEPT);
    if (pruned)
      this.opts.logger.info({ pruned, keptDays: SEARCH_DAYS_KEPT }, 'old search day counts dropped');
    const forgotten = await this.opts.store.deleteImportBatchesBefore(IMPORT_BATCHES_KEPT_DAYS);
    if (forgotten)
      this.opts.logger.info(
        { forgotten, keptDays: IMPORT_BATCHES_KEPT_DAYS },
        'old import batch records dropped',
      );
    if (this.opts.history && !this.historyCut) {
      const { store, maxVersions } = this.opts.history;
      const cut = await store.pruneBeyond(maxVersions);
      this.historyCut = true;
      if (cut) this.opts.logger.info({ cut, maxVersions }, 'earlier versions beyond the history cap dropped');
    }
    return { deleted };
  }

  /** Runs soon after start, then every interval; the timer never keeps the process alive. */
  start(): void {
    this.halted = false;
    this.job.start();
  }

  /** Stops the timer and waits for a run in progress to finish its current batch. */
  async stop(): Promise<void> {
    this.halted = true;
    await this.job.stop();
  }
}
