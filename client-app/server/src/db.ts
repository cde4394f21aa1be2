import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { PGlite } from '@electric-sql/pglite';
import { allMigrationsApplied } from '@picard/service-kit/migrations-applied';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { openPgliteFromTemplate } from './pglite-template.js';

export type { Knex };

/** PostgreSQL by URL, or an embedded PGlite (a file database, or `memory://` in tests). */
export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; pglite: PGlite };

export interface Database {
  knex: Knex;
  schema: string;
  close(): Promise<void>;
}

/** Opens the BFF's database in its own schema and applies the migrations. */
export async function openDatabase(
  target: DatabaseTarget,
  schema: string,
  ownsPglite: boolean,
): Promise<Database> {
  const knex =
    target.kind === 'postgres'
      ? knexFactory({
          client: 'pg',
          connection: target.url,
          searchPath: [schema],
          pool: { min: 0, max: 10 },
        })
      : knexFactory({
          client: ClientPgLite as unknown as typeof knexFactory.Client,
          dialect: 'postgres',
          connection: () => ({ pglite: target.pglite }) as unknown as Knex.StaticConnectionConfig,
          searchPath: [schema],
        });
  try {
    await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
    // Most starts have nothing to migrate: two reads instead of knex's lock-and-list (~0.1 s).
    if (
      !(await allMigrationsApplied(
        knex,
        schema,
        MIGRATIONS.map((m) => m.name),
      ))
    ) {
      const source: Knex.MigrationSource<Migration> = {
        getMigrations: async () => MIGRATIONS,
        getMigrationName: (m) => m.name,
        getMigration: async (m) => ({ up: m.up, down: m.down ?? (async () => undefined) }),
      };
      await knex.migrate.latest({
        migrationSource: source,
        schemaName: schema,
        tableName: 'knex_migrations',
      });
    }
  } catch (err) {
    await knex.destroy().catch(() => undefined);
    throw err;
  }
  return {
    knex,
    schema,
    async close() {
      // knex-pglite closes the PGlite with its one connection; a PGlite handed in stays open.
      if (target.kind === 'pglite' && !ownsPglite) {
        await knex.destroy().catch(() => undefined);
        return;
      }
      await knex.destroy();
      if (target.kind === 'pglite' && !target.pglite.closed) await target.pglite.close();
    },
  };
}

/**
 * The embedded database's buffer pool: sessions, accounts and tokens are small, and PGlite sets the
 * whole pool up at every start (~80 ms of CPU for PostgreSQL's default 128 MB).
 */
export const EMBEDDED_SHARED_BUFFERS = '16MB';

/** CLIENT_DATABASE_URL, else a PGlite file database under the data folder (loaded only then). */
export async function resolveTarget(url: string | undefined, dataDir: string): Promise<DatabaseTarget> {
  if (url) return { kind: 'postgres', url };
  const dir = path.resolve(dataDir, 'db');
  await mkdir(dir, { recursive: true });
  const startParams = ['-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`];
  return { kind: 'pglite', pglite: await openPgliteFromTemplate(dir, startParams) };
}
