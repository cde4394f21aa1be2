import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { DURABLE_START_PARAMS, DurableNodeFS } from './pglite-durable-fs.mjs';

/**
 * PGlite's Emscripten file system ignores fsync; the durable one must pass every commit's flush
 * down to the disk (what keeps acknowledged writes through a machine crash).
 */
describe('DurableNodeFS', () => {
  let dir: string | undefined;
  let db: PGlite | undefined;
  afterEach(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('flushes the WAL to the disk at every commit', async () => {
    dir = await mkdtemp(join(tmpdir(), 'picard-durable-'));
    db = await PGlite.create({ fs: new DurableNodeFS(dir), startParams: DURABLE_START_PARAMS });
    await db.exec('CREATE TABLE t (n int)');
    // Counts the flushes that reach the file system's fsync (the one DurableNodeFS installed).
    const ops = (
      db.Module.FS as unknown as { filesystems: { NODEFS: { stream_ops: { fsync(s: unknown): void } } } }
    ).filesystems.NODEFS.stream_ops;
    const flush = ops.fsync.bind(ops);
    let flushes = 0;
    ops.fsync = (stream) => {
      flushes++;
      flush(stream);
    };
    for (let n = 0; n < 5; n++) await db.query('INSERT INTO t VALUES ($1)', [n]);
    expect(flushes).toBeGreaterThanOrEqual(5);
  });
});
