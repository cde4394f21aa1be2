import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CREATING } from './pglite-durable-fs.mjs';
import { PGliteThread, type OpenOptions } from './pglite-thread.js';

/** The embedded database in its worker thread stands where an in-thread PGlite stood. */
describe('PGliteThread', () => {
  const opened: PGliteThread[] = [];
  const open = async (dir = 'memory://', opts: OpenOptions = {}) => {
    const db = await PGliteThread.open(dir, opts);
    opened.push(db);
    return db;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
  });

  it('returns values as PGlite parses them, usable with instanceof in this realm', async () => {
    const db = await open();
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
    await db.exec('CREATE TABLE t (j jsonb, a text[], at timestamptz, b bytea, v vector(3))');
    await db.query('INSERT INTO t VALUES ($1, $2, $3, $4, $5)', [
      JSON.stringify({ grants: ['x', 'y'] }),
      ['p', 'q'],
      new Date('2026-01-02T03:04:05Z'),
      Buffer.from('hi'),
      '[1,2,3]',
    ]);
    const { rows, fields } = await db.query<{
      j: { grants: string[] };
      a: string[];
      at: Date;
      b: Uint8Array;
      v: string;
    }>('SELECT * FROM t');
    expect(fields.map((f) => f.name)).toEqual(['j', 'a', 'at', 'b', 'v']);
    const row = rows[0]!;
    expect(row.j.grants).toBeInstanceOf(Array);
    expect(row.a).toBeInstanceOf(Array);
    expect(row.a).toEqual(['p', 'q']);
    expect(row.at).toBeInstanceOf(Date);
    expect(row.at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(Buffer.from(row.b).toString()).toBe('hi');
    expect(row.v).toBe('[1,2,3]');
  });

  it('keeps the fields of a database error (code, constraint) that callers branch on', async () => {
    const db = await open();
    await db.exec('CREATE TABLE u (id int CONSTRAINT u_pk PRIMARY KEY)');
    await db.query('INSERT INTO u VALUES (1)');
    const err = (await db.query('INSERT INTO u VALUES (1)').catch((e: unknown) => e)) as Error & {
      code?: string;
      constraint?: string;
    };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/duplicate key/);
    expect(err.code).toBe('23505');
    expect(err.constraint).toBe('u_pk');
  });

  it('commits a transaction, rolls back one whose function throws, and holds other statements meanwhile', async () => {
    const db = await open();
    await db.exec('CREATE TABLE n (x int)');
    const order: string[] = [];
    let outside: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO n VALUES (1)');
      // A statement outside the transaction waits until it ends, as on a single-connection PGlite.
      outside = db
        .query<{ c: number }>('SELECT count(*)::int AS c FROM n')
        .then((r) => order.push(`outside:${r.rows[0]!.c}`));
      await new Promise((r) => setTimeout(r, 50));
      await tx.query('INSERT INTO n VALUES (2)');
      order.push('inside');
    });
    await outside;
    expect(order).toEqual(['inside', 'outside:2']);

    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO n VALUES (3)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await db.query<{ c: number }>('SELECT count(*)::int AS c FROM n')).rows[0]!.c).toBe(2);
  });

  it('keeps a database in a directory across a close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'picard-pglite-'));
    try {
      const first = await open(dir);
      await first.exec("CREATE TABLE kept (s text); INSERT INTO kept VALUES ('still here')");
      await first.close();
      const again = await open(dir);
      expect((await again.query<{ s: string }>('SELECT s FROM kept')).rows).toEqual([{ s: 'still here' }]);
    } finally {
      await Promise.all(opened.splice(0).map((db) => db.close()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('dumps a consistent copy that a new database is created from, and never over an existing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'picard-pglite-'));
    try {
      const source = await open();
      await source.exec("CREATE TABLE kept (s text); INSERT INTO kept VALUES ('in the dump')");
      const dump = await source.dumpDataDir();
      await source.exec("INSERT INTO kept VALUES ('after the dump')");
      const copy = await open(join(dir, 'copy'), { initial: dump });
      expect((await copy.query<{ s: string }>('SELECT s FROM kept')).rows).toEqual([{ s: 'in the dump' }]);
      await copy.close();
      await expect(open(join(dir, 'copy'), { initial: dump })).rejects.toThrow(/already holds a database/);
    } finally {
      await Promise.all(opened.splice(0).map((db) => db.close()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs a database on disk with fsync on, its WAL synced through fsync()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'picard-pglite-'));
    try {
      const db = await open(dir);
      const show = async (name: string) => Object.values((await db.query(`SHOW ${name}`)).rows[0]!)[0];
      expect(await show('fsync')).toBe('on');
      expect(await show('wal_sync_method')).toBe('fsync');
    } finally {
      await Promise.all(opened.splice(0).map((db) => db.close()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sizes the buffer pool as asked, on disk (fsync still on) and in memory; PostgreSQL default otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'picard-pglite-'));
    const show = async (db: PGliteThread, name: string) =>
      Object.values((await db.query(`SHOW ${name}`)).rows[0]!)[0];
    try {
      const small = await open(dir, { sharedBuffers: '16MB' });
      expect(await show(small, 'shared_buffers')).toBe('16MB');
      expect(await show(small, 'fsync')).toBe('on');
      expect(await show(await open('memory://', { sharedBuffers: '8MB' }), 'shared_buffers')).toBe('8MB');
      expect(await show(await open(), 'shared_buffers')).toBe('128MB');
    } finally {
      await Promise.all(opened.splice(0).map((db) => db.close()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('creates anew a database whose creation a killed process left unfinished', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'picard-pglite-'));
    try {
      // What a kill during unpacking leaves: PG_VERSION (early in the dump) but no configuration.
      await writeFile(join(dir, CREATING), '');
      await writeFile(join(dir, 'PG_VERSION'), '17\n');
      const db = await open(dir);
      await db.exec("CREATE TABLE fresh (s text); INSERT INTO fresh VALUES ('works')");
      expect((await db.query<{ s: string }>('SELECT s FROM fresh')).rows).toEqual([{ s: 'works' }]);
      expect(existsSync(join(dir, CREATING))).toBe(false);
    } finally {
      await Promise.all(opened.splice(0).map((db) => db.close()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses statements after close with a clear error', async () => {
    const db = await open();
    await db.close();
    expect(db.closed).toBe(true);
    await expect(db.query('SELECT 1')).rejects.toThrow('embedded database closed');
  });

  it('runs statements off the calling thread: the event loop stays free during a long one', async () => {
    const db = await open();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await db.query('SELECT pg_sleep(0.3)');
    clearInterval(timer);
    // In-thread PGlite blocks the loop for the whole statement (0 ticks); here it keeps ticking.
    expect(ticks).toBeGreaterThan(10);
  });
});
