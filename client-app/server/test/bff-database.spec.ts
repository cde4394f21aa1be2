import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import { CREATING } from '@picard/service-kit/pglite-durable';
import { ensureRegistered, startBff } from '../src/bff.js';
import { EMBEDDED_SHARED_BUFFERS, openDatabase, resolveTarget } from '../src/db.js';
import { templateFile } from '../src/pglite-template.js';

/** The BFF's own embedded database, as `npm start` opens it (a file database under its data folder). */
describe('BFF: embedded database', () => {
  const dirs: string[] = [];
  const opened: PGlite[] = [];
  afterAll(async () => {
    for (const db of opened) if (!db.closed) await db.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const open = async (dataDir: string) => {
    const target = await resolveTarget(undefined, dataDir);
    if (target.kind !== 'pglite') throw new Error('expected an embedded database');
    opened.push(target.pglite);
    return target.pglite;
  };
  const newDataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bff-db-'));
    dirs.push(dir);
    return dir;
  };
  const systemId = async (db: PGlite) =>
    (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!
      .id;

  it('creates a new database from the build-made template (no initdb) and keeps it across opens', async () => {
    // Made by client-app's build, not by this test's first database.
    expect(existsSync(await templateFile())).toBe(true);
    const [a, b] = [await newDataDir(), await newDataDir()];
    const first = await open(a);
    // initdb gives every cluster a new identifier: two copies of one template share it.
    expect(await systemId(first)).toBe(await systemId(await open(b)));
    await first.exec('CREATE TABLE kept (note text); INSERT INTO kept VALUES ($$still here$$)');
    await first.close();
    const again = await open(a);
    expect((await again.query<{ note: string }>('SELECT note FROM kept')).rows).toEqual([
      { note: 'still here' },
    ]);
  });

  it("applies a new migration to a database that has the earlier ones, and skips knex's migrator when none is new", async () => {
    const dir = await newDataDir();
    // Each step opens the files anew, as a start does (closing the knex closes the PGlite too).
    const openAt = async () => openDatabase({ kind: 'pglite', pglite: await open(dir) }, 'client_app', true);
    const first = await openAt();
    // As a database from before migration 002: its record and its column gone.
    await first.knex('knex_migrations').where({ name: '002-refresh-claim' }).delete();
    await first.knex.raw('ALTER TABLE picard_tokens DROP COLUMN refresh_claimed_at');
    await first.close();
    const second = await openAt();
    expect(await second.knex.schema.hasColumn('picard_tokens', 'refresh_claimed_at')).toBe(true);
    // knex's migrator would recreate its lock table; an up-to-date start does not touch it.
    await second.knex.schema.dropTable('knex_migrations_lock');
    await second.close();
    const third = await openAt();
    expect(await third.knex.schema.hasTable('knex_migrations_lock')).toBe(false);
    await third.close();
  });

  const show = async (db: PGlite, setting: string) =>
    Object.values((await db.query<Record<string, string>>(`SHOW ${setting}`)).rows[0]!)[0];

  it('runs with a small buffer pool (it is set up at every start), with fsync on like the services', async () => {
    const db = await open(await newDataDir());
    expect(await show(db, 'shared_buffers')).toBe(EMBEDDED_SHARED_BUFFERS);
    // PGlite's defaults turn fsync off: a machine crash could leave a database that does not open.
    expect(await show(db, 'fsync')).toBe('on');
    expect(await show(db, 'wal_sync_method')).toBe('fsync');
  });

  it('creates anew a database whose creation a killed process left unfinished', async () => {
    const dataDir = await newDataDir();
    const dir = path.join(dataDir, 'db');
    // What a kill while unpacking the template leaves: PG_VERSION (early in it) but no configuration.
    await mkdir(dir);
    await writeFile(path.join(dir, CREATING), '');
    await writeFile(path.join(dir, 'PG_VERSION'), '17\n');
    const db = await open(dataDir);
    await db.exec("CREATE TABLE fresh (s text); INSERT INTO fresh VALUES ('works')");
    expect((await db.query<{ s: string }>('SELECT s FROM fresh')).rows).toEqual([{ s: 'works' }]);
    expect(existsSync(path.join(dir, CREATING))).toBe(false);
  });

  it('is held by one process: a second web app or register-client beside a running one is refused by name', async () => {
    const dataDir = await newDataDir();
    const config = {
      CLIENT_PORT: 0,
      CLIENT_HOST: '127.0.0.1',
      PICARD_URL: 'http://127.0.0.1:9',
      CLIENT_DATA_DIR: dataDir,
      CLIENT_TOKEN_KEY: randomBytes(32).toString('base64'),
      CLIENT_SESSION_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'silent',
    };
    const running = await startBff({ env: {}, config });
    const refusal = `the web app is running with data in ${dataDir} (pid ${process.pid}): stop it first.`;
    try {
      await expect(startBff({ env: {}, config })).rejects.toThrow(refusal);
      const admin = { username: 'admin', password: 'secret' };
      await expect(ensureRegistered({ env: {}, config, admin })).rejects.toThrow(refusal);
      // The command itself, as `npm run register-client -w client-app` runs it: exit 1 and the reason.
      const command = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [path.resolve('client-app/server/dist/server/src/register-client.js')],
          {
            env: {
              ...process.env,
              ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])),
              PICARD_ADMIN_USERNAME: 'admin',
              PICARD_ADMIN_PASSWORD: 'secret',
            },
          },
          (err, _stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
      expect(command.code).toBe(1);
      expect(command.stderr).toContain('PICARD_WEB=off npm start');
      expect(command.stderr).toMatch(
        /register-client: the web app is running with data in .* \(pid \d+\): stop it first\./,
      );
      // The running one was not disturbed.
      expect((await running.knex.raw('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await running.stop();
    }
    // Once it stopped, the folder is free again.
    const next = await startBff({ env: {}, config });
    await next.stop();
  });
});
