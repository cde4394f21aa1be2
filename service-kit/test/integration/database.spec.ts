import { afterAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Knex, type Migration } from '../../src/index.js';
import { openTestDatabase, testLogger, uniqueSchema, type TestDatabase } from '../../src/testing.js';

describe('openDatabase: migrations', () => {
  let db: TestDatabase;
  const schema = uniqueSchema('kit');
  const opened: Knex[] = [];
  afterAll(async () => {
    // One destroy closes an embedded database for all of them.
    for (const k of opened) await k.destroy().catch(() => undefined);
    await db.cleanup(schema);
  });

  it('runs new migrations, and skips the migrator when every migration is recorded', async () => {
    db = await openTestDatabase();
    const runs: string[] = [];
    const migration = (name: string): Migration => ({
      name,
      up: async (knex) => {
        runs.push(name);
        await knex.schema.createTable(`t_${name}`, (t) => t.integer('x'));
      },
    });
    const open = async (migrations: Migration[]) => {
      const k = await openDatabase({ target: db.target, schema, logger: testLogger(), migrations });
      opened.push(k);
      return k;
    };
    const first = await open([migration('001')]);
    await open([migration('001'), migration('002')]);
    expect(runs).toEqual(['001', '002']);
    // knex's migrator would recreate its lock table; an up-to-date start does not touch it.
    await first.schema.withSchema(schema).dropTable('knex_migrations_lock');
    await open([migration('001'), migration('002')]);
    expect(runs).toEqual(['001', '002']);
    expect(await first.schema.withSchema(schema).hasTable('knex_migrations_lock')).toBe(false);
    // A migration added later still goes through the migrator.
    await open([migration('001'), migration('002'), migration('003')]);
    expect(runs).toEqual(['001', '002', '003']);
    expect(await first.schema.withSchema(schema).hasTable('t_003')).toBe(true);
  });

  it('lets two instances migrate a new schema at once (PostgreSQL): both open, each migration runs once', async () => {
    db ??= await openTestDatabase();
    if (db.target.kind !== 'postgres') return; // one process owns an embedded database
    const fresh = uniqueSchema('kit_race');
    const runs: string[] = [];
    const migrations: Migration[] = ['001', '002'].map((name) => ({
      name,
      up: async (knex) => {
        runs.push(name);
        await knex.schema.createTable(`t_${name}`, (t) => t.integer('x'));
      },
    }));
    try {
      const both = await Promise.all(
        [0, 1, 2, 3].map(() =>
          openDatabase({ target: db.target, schema: fresh, logger: testLogger(), migrations }),
        ),
      );
      opened.push(...both);
      expect(runs).toEqual(['001', '002']);
    } finally {
      await db.cleanup(fresh);
    }
  });
});
