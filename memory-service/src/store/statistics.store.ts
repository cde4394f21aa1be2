import type { Knex } from '@picard/service-kit';

/** The tables searches plan over; their statistics decide between the HNSW index and a scan. */
const PLANNED_TABLES = ['memories', 'memory_shares', 'memory_keywords', 'memory_terms', 'group_members'];

/**
 * SQL for keeping planner statistics current. PGlite runs no autovacuum, so there it also vacuums:
 * without the visibility map no index-only scan is possible (counting a term's postings read every
 * heap page; a keyword search at 10,000 memories took a third longer) and dead rows pile up.
 */
export class StatisticsStore {
  constructor(
    readonly knex: Knex,
    private readonly opts: { vacuum: boolean },
  ) {}

  /** ANALYZE, or VACUUM (ANALYZE) when asked and this database has no autovacuum. */
  async analyze(opts: { vacuum?: boolean } = {}): Promise<void> {
    const tables = PLANNED_TABLES.map(() => '??').join(', ');
    const statement = this.opts.vacuum && opts.vacuum ? 'VACUUM (ANALYZE)' : 'ANALYZE';
    await this.knex.raw(`${statement} ${tables}`, PLANNED_TABLES);
  }

  /** The planner's idea of the memories table's size; -1 when it was never analyzed. */
  async estimatedRows(): Promise<number> {
    const res = await this.knex.raw<{ rows: { n: number | string | null }[] }>(
      "SELECT reltuples AS n FROM pg_class WHERE oid = to_regclass('memories')",
    );
    return Number(res.rows[0]?.n ?? -1);
  }
}
