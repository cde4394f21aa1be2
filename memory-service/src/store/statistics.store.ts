import type { Knex } from '@picard/service-kit';

/** The tables searches plan over; their statistics decide between the HNSW index and a scan. */
const PLANNED_TABLES = ['memories', 'memory_shares', 'memory_keywords', 'memory_terms', 'group_members'];

/** SQL for keeping planner statistics current (PGlite runs no autovacuum). */
export class StatisticsStore {
  constructor(readonly knex: Knex) {}

  async analyze(): Promise<void> {
    await this.knex.raw(`ANALYZE ${PLANNED_TABLES.map(() => '??').join(', ')}`, PLANNED_TABLES);
  }

  /** The planner's idea of the memories table's size; -1 when it was never analyzed. */
  async estimatedRows(): Promise<number> {
    const res = await this.knex.raw<{ rows: { n: number | string | null }[] }>(
      "SELECT reltuples AS n FROM pg_class WHERE oid = to_regclass('memories')",
    );
    return Number(res.rows[0]?.n ?? -1);
  }
}
