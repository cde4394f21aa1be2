import type { Knex } from 'knex';

/**
 * RateLimiterPostgres speaks node-postgres (`query({text, values})`). Its `storeType: 'knex'` takes a
 * raw connection from knex's pool, which with knex-pglite is the PGlite itself (another query API),
 * so instead the limiter gets this small client that runs its statements through knex: one code path
 * for PostgreSQL and PGlite, and PGlite's single connection stays knex's to schedule.
 */
export function knexPgClient(knex: Knex) {
  return {
    async query(q: { text: string; values?: unknown[] }) {
      const bindings: unknown[] = [];
      const sql = q.text.replace(/\$(\d+)/g, (_m, n: string) => {
        bindings.push(q.values?.[Number(n) - 1] ?? null);
        return '?';
      });
      const r = (await knex.raw(sql, bindings as Knex.RawBinding[])) as {
        rows: unknown[];
        rowCount?: number;
      };
      // PGlite counts no "affected" rows for a SELECT; the limiter reads rowCount to see a hit.
      return { rows: r.rows, rowCount: Math.max(r.rowCount ?? 0, r.rows?.length ?? 0) };
    },
  };
}
