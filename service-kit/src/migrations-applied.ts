import type { Knex } from 'knex';

/**
 * Whether every one of `names` is recorded in `schema`'s knex_migrations. knex's migrator takes
 * ~0.1-0.3 s even with nothing to do (a lock table, listings, a transaction): a start with every
 * migration recorded skips it (two cheap reads), and a new migration still goes through it.
 */
export async function allMigrationsApplied(
  knex: Knex,
  schema: string,
  names: readonly string[],
): Promise<boolean> {
  const table = await knex.raw<{ rows: { t: string | null }[] }>('SELECT to_regclass(?) AS t', [
    `"${schema}".knex_migrations`,
  ]);
  if (!table.rows[0]?.t) return false;
  const done = new Set(
    (await knex.withSchema(schema).select('name').from('knex_migrations')).map(
      (r: { name: string }) => r.name,
    ),
  );
  return names.every((name) => done.has(name));
}
