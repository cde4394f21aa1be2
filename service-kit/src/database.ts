import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { waitForDependency } from './dependency-wait.js';
import type { Logger } from './logger.js';
import type { DatabaseTarget } from './database-target.js';
import { allMigrationsApplied } from './migrations-applied.js';

export type { Knex };
export type { EmbeddedDatabase, EmbeddedQueryable } from './pglite-thread.js';
export { openPglite, resolveDatabaseTarget, type DatabaseTarget } from './database-target.js';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

/**
 * Opens the service's database and migrates it. Every service keeps its tables in a schema
 * named after itself, so the same code works when services share one PostgreSQL database,
 * have one each, or run on an embedded PGlite.
 */
export async function openDatabase(opts: {
  target: DatabaseTarget;
  schema: string;
  migrations: Migration[];
  logger: Logger;
  poolMax?: number;
  /**
   * A statement run once on every new connection (session settings the service's statements rely
   * on, so hot statements need no transaction of their own to SET LOCAL them). An embedded database
   * is one session: it runs once.
   */
  onConnect?: string;
}): Promise<Knex> {
  const { target, schema, onConnect } = opts;
  const knex =
    target.kind === 'postgres'
      ? knexFactory({
          client: 'pg',
          connection: target.url,
          searchPath: [schema, 'public'],
          pool: {
            min: 0,
            max: opts.poolMax ?? 10,
            ...(onConnect ? { afterCreate: runOnConnect(onConnect) } : {}),
          },
        })
      : knexFactory({
          client: ClientPgLite as unknown as typeof knexFactory.Client,
          dialect: 'postgres',
          connection: () => ({ pglite: target.pglite }) as unknown as Knex.StaticConnectionConfig,
          searchPath: [schema, 'public'],
        });

  // PostgreSQL may come up after the service (the first statement opens the first connection).
  await waitForDependency('PostgreSQL (DATABASE_URL)', () => knex.raw('SELECT 1'), {
    logger: opts.logger,
  });
  const migrate = async () => {
    await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
    await createVectorExtension(knex);
    if (
      await allMigrationsApplied(
        knex,
        schema,
        opts.migrations.map((m) => m.name),
      )
    )
      return;
    const source: Knex.MigrationSource<Migration> = {
      getMigrations: async () => opts.migrations,
      getMigrationName: (m) => m.name,
      getMigration: async (m) => ({ up: m.up, down: m.down ?? (async () => undefined) }),
    };
    const [, applied] = (await knex.migrate.latest({
      migrationSource: source,
      schemaName: schema,
      tableName: 'knex_migrations',
    })) as [number, string[]];
    if (applied.length) opts.logger.info({ schema, applied }, 'migrations applied');
  };
  // An embedded database has one process; PostgreSQL may see two instances of a service start at
  // once, and knex's own migration lock lives in tables both would be creating.
  // No migrations: a second pool on tables the service already made (benchmarks, tests), which
  // may be a pool of one connection (the advisory lock would hold it).
  if (opts.migrations.length > 0)
    await (target.kind === 'postgres'
      ? holdingAdvisoryLock(knex, `picard:migrate:${schema}`, migrate)
      : migrate());
  if (onConnect && target.kind === 'pglite') await knex.raw(onConnect);
  return knex;
}

/** A pool hook that readies each new pg connection with `sql` before the pool hands it out. */
function runOnConnect(sql: string) {
  return (
    conn: { query(sql: string, cb: (err: Error | null) => void): void },
    done: (err: Error | null, conn: unknown) => void,
  ) => conn.query(sql, (err) => done(err, conn));
}

/**
 * Runs `work` while this process holds a PostgreSQL session-level advisory lock named `name`, taken
 * on a connection of its own so `work` may use the rest of the pool.
 */
async function holdingAdvisoryLock(knex: Knex, name: string, work: () => Promise<void>): Promise<void> {
  const connection = await knex.client.acquireConnection();
  try {
    await knex.raw('SELECT pg_advisory_lock(hashtext(?))', [name]).connection(connection);
    try {
      await work();
    } finally {
      await knex.raw('SELECT pg_advisory_unlock(hashtext(?))', [name]).connection(connection);
    }
  } finally {
    await knex.client.releaseConnection(connection);
  }
}

async function createVectorExtension(knex: Knex) {
  try {
    await knex.raw('CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public');
  } catch (err) {
    // Two services migrating at once can race on the extension; the loser sees a duplicate.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42710') {
      throw new Error(
        `pgvector is not available in this PostgreSQL (${(err as Error).message}). ` +
          'Install it (scripts/services.sh builds it) or run without DATABASE_URL for the embedded database.',
      );
    }
  }
}
