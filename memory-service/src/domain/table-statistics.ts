import { PeriodicJob, type Logger } from '@picard/service-kit';
import type { StatisticsStore } from '../store/statistics.store.js';

/** Changes (rows written) that make statistics stale: this share of the table, and at least MIN_CHANGES. */
const STALE_SHARE = 0.1;
const MIN_CHANGES = 50;
/** How long a burst of writes (an import, a batch) may go on before its ANALYZE runs. */
const SETTLE_MS = 1000;

/**
 * Keeps the planner's statistics current, so searches use the HNSW and keyword indexes instead
 * of scanning: without statistics PostgreSQL guesses a handful of rows and picks an exact scan
 * with a sort (issue #10 measured 287 ms at 5,000 memories in PGlite, which never autovacuums).
 * ANALYZE runs at start when the table was never analyzed, soon after writes have changed a
 * tenth of the table (bulk writes, imports, re-embedding, re-indexing), and on a timer for the
 * trickle of small writes. PostgreSQL's autovacuum does the same on its own schedule; this makes
 * bulk writes visible to the planner right away in both modes. The timer's run also vacuums where
 * there is no autovacuum (PGlite): a whole pass over the tables, so at most once per interval and
 * never in the middle of a bulk write (at 10,000 memories it held PGlite for ~0.2-0.5 s, and
 * vacuuming after every tenth of a load cut ingest by a third).
 */
export class TableStatistics {
  private changes = 0;
  /** Rows written since the last vacuum. */
  private unvacuumed = 0;
  private rows = 0;
  private job?: PeriodicJob<void>;
  private settle?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly opts: { store: StatisticsStore; logger: Logger; intervalSeconds: number }) {}

  /** Resolves once the table's size is known (and, for a never-analyzed table, after its first ANALYZE). */
  async start(): Promise<void> {
    const estimate = await this.opts.store.estimatedRows();
    this.rows = Math.max(0, estimate);
    if (estimate < 0) await this.analyze();
    this.job ??= new PeriodicJob({
      name: 'planner statistics',
      logger: this.opts.logger,
      run: async () => {
        if (this.unvacuumed > 0) await this.analyze({ vacuum: true });
        else if (this.changes > 0) await this.analyze();
      },
      everyMs: this.opts.intervalSeconds * 1000,
    });
    this.job.start();
  }

  /** Rows inserted, changed or deleted. */
  wrote(rows: number): void {
    this.changes += rows;
    this.unvacuumed += rows;
    if (this.settle || this.stopped) return;
    if (this.changes >= Math.max(MIN_CHANGES, STALE_SHARE * this.rows)) {
      this.settle = setTimeout(() => {
        this.settle = undefined;
        void this.analyze();
      }, SETTLE_MS);
      this.settle.unref();
    }
  }

  /**
   * Runs ANALYZE now (one at a time; with `vacuum`, VACUUM (ANALYZE) where there is no autovacuum);
   * failures are logged, never thrown: statistics are an optimisation.
   */
  analyze(opts: { vacuum?: boolean } = {}): Promise<void> {
    this.running ??= (async () => {
      const changes = this.changes;
      const unvacuumed = this.unvacuumed;
      const started = performance.now();
      try {
        await this.opts.store.analyze(opts);
        this.changes -= changes;
        if (opts.vacuum) this.unvacuumed -= unvacuumed;
        this.rows = Math.max(0, await this.opts.store.estimatedRows());
        this.opts.logger.debug(
          { rows: this.rows, changes, ms: Math.round(performance.now() - started) },
          'planner statistics updated',
        );
      } catch (err) {
        if (!this.stopped) this.opts.logger.warn({ err: (err as Error).message }, 'ANALYZE failed');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.job?.stop();
    clearTimeout(this.settle);
    await this.running;
  }
}
