import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { PGlite } from '@electric-sql/pglite';
import { EMBEDDED_SHARED_BUFFERS, resolveTarget } from '../src/db.js';
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

  it('runs with a small buffer pool (it is set up at every start)', async () => {
    const db = await open(await newDataDir());
    const { rows } = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
    expect(rows[0]!.shared_buffers).toBe(EMBEDDED_SHARED_BUFFERS);
  });
});
