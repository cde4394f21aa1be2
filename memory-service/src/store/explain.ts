import type { Knex } from '@picard/service-kit';

/** The plan PostgreSQL picks for a statement (EXPLAIN, not run): diagnostics and the plan tests. */
export async function explainPlan(
  db: Knex | Knex.Transaction,
  statement: { sql: string; bindings?: readonly unknown[] },
): Promise<string> {
  const res = await db.raw<{ rows: Record<string, string>[] }>(
    `EXPLAIN ${statement.sql}`,
    (statement.bindings ?? []) as Knex.RawBinding[],
  );
  return res.rows.map((r) => r['QUERY PLAN']).join('\n');
}
