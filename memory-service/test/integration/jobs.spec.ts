import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { newId, type BusMessage } from '@picard/service-kit';
import { testLogger, testMode } from '@picard/service-kit/testing';
import { ExpirySweeper, SEARCH_DAYS_KEPT } from '../../src/domain/expiry-sweeper.js';
import { KeyRotationJob, type KeyRotationProgress } from '../../src/domain/key-rotation.job.js';
import { MemoryCipher } from '../../src/domain/memory-cipher.js';
import { KeyRotationStore } from '../../src/store/key-rotation.store.js';
import { SEALED_COLUMNS, sealedFrom } from '../../src/store/sealed-rows.js';
import { SweeperStore } from '../../src/store/sweeper.store.js';
import { PRIVATE, PUBLIC, SHARED, countRows, eventFor, startStack, userApi, type Stack } from './harness.js';

describe('memory-service jobs', () => {
  let stack: Stack;
  const events: BusMessage[] = [];

  beforeAll(async () => {
    stack = await startStack();
    await stack.bus.subscribe({
      durable: `test-${stack.schema}`,
      subjects: ['memory.deleted'],
      handler: async (m) => void events.push(m),
    });
  });
  afterAll(() => stack.stop());
  // Both jobs work on the whole table: each case starts from an empty one, so counts are its own.
  beforeEach(() => stack.knex('memories').delete());

  const expireAgo = (ids: string[], seconds: number) =>
    stack
      .knex('memories')
      .whereIn('id', ids)
      .update({ expiration_date: stack.knex.raw('now() - make_interval(secs => ?)', [seconds]) });
  const exists = async (id: string) => (await stack.knex('memories').where({ id }).first()) !== undefined;
  const DAY = 24 * 3600;

  /** A real store whose batch sizes are recorded, to see the batching. */
  function recordingStore() {
    const store = new SweeperStore(stack.knex);
    const original = store.deleteExpiredBatch.bind(store);
    const batches: number[] = [];
    store.deleteExpiredBatch = async (...args) => {
      const out = await original(...args);
      batches.push(out.length);
      return out;
    };
    return { store, batches };
  }

  describe('expiry sweeper', () => {
    const sweeper = (
      opts: {
        graceSeconds?: number;
        batchSize?: number;
        intervalSeconds?: number;
        store?: SweeperStore;
      } = {},
    ) => new ExpirySweeper({ store: new SweeperStore(stack.knex), logger: testLogger(), ...opts });

    it('deletes only memories expired longer than the grace period, in batches, with their shares and one event each', async () => {
      const alice = userApi(stack.client);
      const bob = userApi(stack.client);
      const old = [
        await alice.submit({
          text: 'Dentist appointment on Monday',
          permission: SHARED,
          sharedWith: { users: [bob.userId], groups: [] },
        }),
        await alice.submit({ text: 'Parking spot is B12', permission: PRIVATE }),
        await alice.submit({ text: 'Conference wifi password', permission: PUBLIC }),
      ];
      const recent = await alice.submit({ text: 'Yesterday I left the keys at Anna', permission: PRIVATE });
      const forever = await alice.submit({ text: 'My blood type is 0+', permission: PRIVATE });
      const future = await alice.submit({
        text: 'Flight next year',
        permission: PRIVATE,
        expirationDate: new Date(Date.now() + DAY * 1000),
      });
      await expireAgo(
        old.map((m) => m.id),
        8 * DAY,
      );
      await expireAgo([recent.id], DAY);
      expect(await countRows(stack.knex, 'memory_shares')).toBe(1);

      const { store, batches } = recordingStore();
      const s = sweeper({ batchSize: 2, store });
      expect(s.graceSeconds).toBe(7 * DAY);
      expect(await s.runOnce()).toEqual({ deleted: 3 });
      expect(batches).toEqual([2, 1]);
      for (const m of old) expect(await exists(m.id)).toBe(false);
      for (const m of [recent, forever, future]) expect(await exists(m.id)).toBe(true);
      expect(await countRows(stack.knex, 'memory_shares')).toBe(0);

      for (const m of old) {
        const event = await eventFor(events, 'memory.deleted', m.id);
        expect(event?.payload).toEqual({
          memory_id: m.id,
          user_id: alice.userId,
          permission: m.permission === SHARED ? 'shared' : m.permission === PUBLIC ? 'public' : 'private',
          occurred_at: expect.any(String),
          reason: 'expired',
        });
      }
      expect(JSON.stringify(events)).not.toMatch(/Dentist|B12|wifi/);
      // Reads stop at expiry already; only the sweeper removes rows, and a second run finds nothing.
      expect(await s.runOnce()).toEqual({ deleted: 0 });
      expect(await sweeper({ graceSeconds: 0 }).runOnce()).toEqual({ deleted: 1 });
      expect(await exists(recent.id)).toBe(false);
    });

    it('two sweepers side by side delete each row once', async () => {
      const alice = userApi(stack.client);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++)
        ids.push((await alice.submit({ text: `expired note number ${i}`, permission: PRIVATE })).id);
      await expireAgo(ids, 10 * DAY);
      const [a, b] = await Promise.all([
        sweeper({ batchSize: 2 }).runOnce(),
        sweeper({ batchSize: 3 }).runOnce(),
      ]);
      expect(a.deleted + b.deleted).toBe(7);
      for (const id of ids) expect(await eventFor(events, 'memory.deleted', id)).toBeDefined();
      expect(events.filter((e) => ids.includes((e.payload as { memory_id: string }).memory_id))).toHaveLength(
        7,
      );
    });

    it('runs on its timer after start() and stops cleanly', async () => {
      const alice = userApi(stack.client);
      const m = await alice.submit({ text: 'Temporary door code 4412', permission: PRIVATE });
      await expireAgo([m.id], 8 * DAY);
      const s = sweeper({ intervalSeconds: 0.05 });
      s.start();
      for (let i = 0; i < 100 && (await exists(m.id)); i++) await new Promise((r) => setTimeout(r, 30));
      await s.stop();
      expect(await exists(m.id)).toBe(false);
    });

    it('drops per-day search counts older than SEARCH_DAYS_KEPT days, keeping the rest', async () => {
      const user = newId();
      const day = (ago: number) => stack.knex.raw(`current_date - ${ago}`);
      await stack.knex('user_search_days').insert(
        [SEARCH_DAYS_KEPT + 30, SEARCH_DAYS_KEPT + 1, SEARCH_DAYS_KEPT, 1, 0].map((ago) => ({
          user_id: user,
          day: day(ago),
          searches: ago + 1,
        })),
      );
      expect(await sweeper().runOnce()).toEqual({ deleted: 0 });
      const left = await stack
        .knex('user_search_days')
        .where({ user_id: user })
        .orderBy('day')
        .pluck('searches');
      expect(left.map(Number)).toEqual([SEARCH_DAYS_KEPT + 1, 2, 1]);
    });

    it('refuses nonsense settings', () => {
      expect(() => sweeper({ graceSeconds: -1 })).toThrow(/grace/);
      expect(() => sweeper({ intervalSeconds: 0 })).toThrow(/interval/);
      expect(() => sweeper({ batchSize: 0 })).toThrow(/batch/);
    });
  });

  describe('key rotation', () => {
    const k2 = { id: 'k2', key: randomBytes(32) };
    const rotating = () => new MemoryCipher([stack.encryptionKey, k2], 'k2');
    const onlyK2 = () => new MemoryCipher([k2]);
    const job = (batchSize: number, maxPasses?: number) =>
      new KeyRotationJob({
        store: new KeyRotationStore(stack.knex),
        cipher: rotating(),
        logger: testLogger(),
        batchSize,
        maxPasses,
      });
    const rows = async (ids: string[]) =>
      (await stack
        .knex('memories')
        .select('id', ...SEALED_COLUMNS, stack.knex.raw('updated_at::text AS updated'))
        .whereIn('id', ids)
        .orderBy('id')) as {
        id: string;
        ciphertext: Uint8Array;
        iv: Uint8Array;
        auth_tag: Uint8Array;
        key_id: string;
        aad_version: number;
        user_id: string;
        updated: string;
      }[];
    const open = (cipher: MemoryCipher, r: Awaited<ReturnType<typeof rows>>[number]) =>
      cipher.open(r.id, sealedFrom(r));

    async function seed(n: number) {
      const alice = userApi(stack.client);
      const texts = new Map<string, string>();
      for (let i = 0; i < n; i++) {
        const text = `Rotation memo ${i}: ünïcødé 🗝️ "quoted", ${'x'.repeat(i)}`;
        texts.set((await alice.submit({ text, permission: i % 2 ? PUBLIC : PRIVATE })).id, text);
      }
      return texts;
    }

    it('an interrupted run loses nothing; a rerun finishes, plaintext and updated_at unchanged', async () => {
      const texts = await seed(7);
      const ids = [...texts.keys()];
      const before = await rows(ids);
      expect(before.every((r) => r.key_id === 'k1')).toBe(true);

      const seen: KeyRotationProgress[] = [];
      await expect(
        job(3).run({
          onProgress: (p) => {
            seen.push(p);
            throw new Error('operator pressed ctrl-c');
          },
        }),
      ).rejects.toThrow('ctrl-c');
      expect(seen).toEqual([{ done: 3, total: 7, keyId: 'k2' }]);
      const mid = await rows(ids);
      expect(mid.filter((r) => r.key_id === 'k2')).toHaveLength(3);
      for (const r of mid) expect(open(rotating(), r)).toBe(texts.get(r.id));

      const progress: KeyRotationProgress[] = [];
      const summary = await job(3).run({ onProgress: (p) => void progress.push(p) });
      expect(summary).toMatchObject({
        keyId: 'k2',
        total: 4,
        rotated: 4,
        failed: 0,
        remaining: 0,
        passes: 1,
      });
      expect(progress).toEqual([
        { done: 3, total: 4, keyId: 'k2' },
        { done: 4, total: 4, keyId: 'k2' },
      ]);
      const after = await rows(ids);
      for (const r of after) {
        expect(r.key_id).toBe('k2');
        expect(open(onlyK2(), r)).toBe(texts.get(r.id));
      }
      expect(after.map((r) => r.updated)).toEqual(before.map((r) => r.updated));
      expect(after.map((r) => Buffer.from(r.iv).toString('hex'))).not.toEqual(
        before.map((r) => Buffer.from(r.iv).toString('hex')),
      );
      expect(() => open(new MemoryCipher([stack.encryptionKey]), after[0]!)).toThrow(/not configured/);
      expect(await job(3).run()).toMatchObject({ total: 0, rotated: 0, passes: 0, remaining: 0 });
    });

    it('stays online: a memory written mid-run under the old key is rotated too', async () => {
      const texts = await seed(4);
      const writer = userApi(stack.client);
      let late: string | undefined;
      const summary = await job(2).run({
        onProgress: async () => {
          late ??= (await writer.submit({ text: 'written while rotating', permission: PRIVATE })).id;
        },
      });
      expect(summary).toMatchObject({ rotated: 5, total: 5, remaining: 0, failed: 0 });
      // Ids are random: the late row lands before the keyset position (next pass) or after it (this pass).
      expect([1, 2]).toContain(summary.passes);
      const after = await rows([...texts.keys(), late!]);
      expect(after.every((r) => r.key_id === 'k2')).toBe(true);
      expect(
        open(
          onlyK2(),
          after.find((r) => r.id === late)!,
        ),
      ).toBe('written while rotating');
    });

    it('leaves a row it cannot open untouched and reports it', async () => {
      const texts = await seed(2);
      const [bad, good] = [...texts.keys()];
      await stack.knex('memories').where({ id: bad }).update({ key_id: 'k0-lost' });
      const summary = await job(10).run();
      expect(summary).toMatchObject({ rotated: 1, failed: 1, failedIds: [bad], remaining: 1 });
      expect((await rows([bad!]))[0]!.key_id).toBe('k0-lost');
      expect(open(onlyK2(), (await rows([good!]))[0]!)).toBe(texts.get(good!));
    });

    (testMode() === 'cluster' ? it : it.skip)(
      'skips a row a writer holds locked, and takes it in a later run',
      async () => {
        const texts = await seed(3);
        const [held] = [...texts.keys()];
        const trx = await stack.knex.transaction();
        await trx('memories').where({ id: held }).forUpdate().first();
        const first = await job(10, 1).run();
        expect(first).toMatchObject({ rotated: 2, remaining: 1, failed: 0 });
        await trx.commit();
        expect(await job(10).run()).toMatchObject({ rotated: 1, remaining: 0 });
        expect(open(onlyK2(), (await rows([held!]))[0]!)).toBe(texts.get(held!));
      },
    );
  });
});
