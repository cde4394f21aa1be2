import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryPb } from '@picard/proto';
import { newId } from '@picard/service-kit';
import { testLogger } from '@picard/service-kit/testing';
import { ActivityRecorder, utcDay } from '../../src/domain/activity.js';
import { ActivityStore } from '../../src/store/activity.store.js';
import {
  countRows,
  failure,
  PRIVATE,
  PUBLIC,
  READ,
  SHARED,
  startStack,
  userApi,
  WRITE,
  type Stack,
} from './harness.js';

describe('memory-service: batches, search filters, activity', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  it('creates a batch in input order, embedded in batches, with one event each', async () => {
    const u = userApi(stack.client);
    const outbox = await countRows(stack.knex, 'outbox');
    const texts = Array.from(
      { length: 130 },
      (_, i) => `batch memory number ${i} about ${['tea', 'trains', 'tax'][i % 3]}`,
    );
    const res = await u.submitMany(
      texts.map((text, i) => ({ text, permission: i % 2 ? PUBLIC : PRIVATE, tags: [`n${i}`] })),
    );
    expect(res.errors).toEqual([]);
    expect(res.memories.map((m) => m.text)).toEqual(texts);
    expect(res.memories.map((m) => m.tags[0])).toEqual(texts.map((_, i) => `n${i}`));
    expect(res.memories.every((m) => !m.embeddingPending && m.userId === u.userId)).toBe(true);
    expect(await countRows(stack.knex, 'outbox')).toBeGreaterThanOrEqual(outbox); // relayed or pending, never fewer rows written
    expect((await u.query('steam locomotives', 3)).memories[0]!.text).toMatch(/trains/);
  });

  it('writes nothing when any item is bad, naming every bad item and field', async () => {
    const u = userApi(stack.client);
    const before = await countRows(stack.knex);
    const res = await u.submitMany([
      { text: 'fine' },
      { text: '' },
      { text: 'fine too', permission: SHARED },
      { text: 'x'.repeat(501) },
      { text: 'ok', tags: ['a', ''] },
      { text: 'ok', permission: SHARED, sharedWith: { users: [], groups: [newId()] } },
    ]);
    expect(res.memories).toEqual([]);
    expect(res.errors.map((e) => [e.index, e.code, e.field])).toEqual([
      [1, 'invalid_argument', 'memories[1].text'],
      [2, 'invalid_argument', 'memories[2].shared_with'],
      [3, 'invalid_argument', 'memories[3].text'],
      [4, 'invalid_argument', 'memories[4].tags[1]'],
      [5, 'invalid_argument', 'memories[5].shared_with.groups[0]'],
    ]);
    expect(await countRows(stack.knex)).toBe(before);
    expect((await failure(u.submitMany([]))).field).toBe('memories');
    expect((await failure(u.submitMany(Array.from({ length: 501 }, () => ({ text: 'x' }))))).field).toBe(
      'memories',
    );
  });

  it('with validate_only, answers a write\u2019s errors and stores nothing, whether good or bad', async () => {
    const u = userApi(stack.client);
    const before = await countRows(stack.knex);
    const bad = await u.submitMany(
      [
        { text: 'fine' },
        { text: 'fine too', permission: PUBLIC, sharedWith: { users: [newId()], groups: [] } },
      ],
      true,
    );
    expect(bad.memories).toEqual([]);
    expect(bad.errors.map((e) => [e.index, e.code, e.field])).toEqual([
      [1, 'invalid_argument', 'memories[1].shared_with'],
    ]);
    const good = await u.submitMany([{ text: 'fine' }, { text: 'public', permission: PUBLIC }], true);
    expect(good).toEqual({ memories: [], errors: [] });
    expect(await countRows(stack.knex)).toBe(before);
    expect((await u.retrieve()).memories).toEqual([]);
  });

  it('deletes all of a batch or none of it, reporting each id at fault', async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const mine = (
      await owner.submitMany([{ text: 'one' }, { text: 'two' }, { text: 'three', permission: PUBLIC }])
    ).memories;
    const theirs = await other.submit({ text: 'not yours', permission: PUBLIC });
    const hidden = await other.submit({ text: 'hidden', permission: PRIVATE });

    const refused = await owner.removeMany([mine[0]!.id, theirs.id, hidden.id, 'bad', mine[0]!.id]);
    expect(refused.deletedIds).toEqual([]);
    expect(refused.errors.map((e) => [e.index, e.code, e.field])).toEqual([
      [3, 'invalid_argument', 'memory_ids[3]'],
      [4, 'invalid_argument', 'memory_ids[4]'],
    ]);
    const denied = await owner.removeMany([mine[0]!.id, theirs.id, hidden.id]);
    expect(denied.errors.map((e) => [e.index, e.id, e.code])).toEqual([
      [1, theirs.id, 'permission_denied'],
      [2, hidden.id, 'not_found'],
    ]);
    expect((await owner.retrieve()).memories).toHaveLength(3);

    const ids = mine.map((m) => m.id);
    const done = await owner.removeMany(ids);
    expect([done.deletedIds, done.errors]).toEqual([ids, []]);
    expect(await stack.knex('memories').whereIn('id', ids).pluck('id')).toEqual([]);
    expect((await failure(userApi(stack.client, { scopes: [READ] }).removeMany(ids))).code).toBe(
      'permission_denied',
    );
  });

  it('filters a search by owner, permission, tags and minimum similarity', async () => {
    const alice = userApi(stack.client);
    const bob = userApi(stack.client);
    const a = await alice.submitMany([
      { text: 'Alice grows tomatoes in her greenhouse', permission: PUBLIC, tags: ['garden'] },
      {
        text: 'Alice waters the tomato plants every morning',
        permission: PRIVATE,
        tags: ['garden', 'routine'],
      },
      { text: 'Alice pays the electricity bill monthly', permission: PUBLIC, tags: ['money'] },
    ]);
    await bob.submit({ text: 'Bob grows tomatoes on his balcony', permission: PUBLIC, tags: ['garden'] });
    const ids = (res: { memories: { id: string }[] }) => res.memories.map((m) => m.id).sort();
    const q = 'growing tomato plants';

    expect(ids(await alice.query(q, 10, { userId: alice.userId }))).toEqual(
      a.memories.map((m) => m.id).sort(),
    );
    expect(ids(await bob.query(q, 10, { userId: alice.userId }))).toEqual(
      [a.memories[0]!.id, a.memories[2]!.id].sort(),
    );
    expect(ids(await alice.query(q, 10, { userId: alice.userId, permission: PRIVATE }))).toEqual([
      a.memories[1]!.id,
    ]);
    expect(ids(await alice.query(q, 10, { userId: alice.userId, tags: ['garden', 'routine'] }))).toEqual([
      a.memories[1]!.id,
    ]);
    expect(ids(await alice.query(q, 10, { userId: alice.userId, anyTags: ['money', 'routine'] }))).toEqual(
      [a.memories[1]!.id, a.memories[2]!.id].sort(),
    );
    const all = await alice.query(q, 10, { userId: alice.userId });
    const cut = (all.memories[0]!.similarity! + all.memories.at(-1)!.similarity!) / 2;
    const above = await alice.query(q, 10, { userId: alice.userId, minSimilarity: cut });
    expect(above.memories.length).toBeGreaterThan(0);
    expect(above.memories.length).toBeLessThan(all.memories.length);
    expect(above.memories.every((m) => m.similarity! >= cut)).toBe(true);

    for (const [req, field] of [
      [{ userId: 'x' }, 'user_id'],
      [{ minSimilarity: 2 }, 'min_similarity'],
      [{ tags: [''] }, 'tags[0]'],
      [{ permission: 9 as never }, 'permission'],
    ] as [Partial<memoryPb.QueryMemoryRequest>, string][]) {
      expect((await failure(alice.query(q, 5, req))).field).toBe(field);
    }
  });

  it('hybrid ranking lifts the memory that shares the rare keyword, keeping cosine similarities', async () => {
    const u = userApi(stack.client);
    await u.submitMany([
      { text: 'The product launch starts next week' },
      { text: 'Project Zephyrine kickoff is on Thursday' },
      { text: 'The new initiative begins soon' },
    ]);
    const plain = await u.query('when does Zephyrine start', 3, { userId: u.userId });
    const hybrid = await u.query('when does Zephyrine start', 3, { userId: u.userId, hybrid: true });
    expect(hybrid.memories[0]!.text).toMatch(/Zephyrine/);
    expect(hybrid.memories.map((m) => m.id).sort()).toEqual(plain.memories.map((m) => m.id).sort());
    const byId = new Map(plain.memories.map((m) => [m.id, m.similarity]));
    for (const m of hybrid.memories) expect(m.similarity).toBeCloseTo(byId.get(m.id)!, 6);
  });

  it('counts memories by permission, searches and last activity; the summary needs admin', async () => {
    const u = userApi(stack.client);
    await u.submitMany([{ text: 'a' }, { text: 'b', permission: PUBLIC }, { text: 'c', permission: PUBLIC }]);
    await u.query('anything', 1);
    await u.query('anything else', 1);
    const a = await u.activity();
    expect(a.userId).toBe(u.userId);
    expect(a.memoriesByPermission).toEqual({ private: 1, public: 2, shared: 0 });
    expect(a.searches).toBe(2);
    expect(Date.now() - a.lastActivity!.getTime()).toBeLessThan(60_000);

    const other = userApi(stack.client);
    expect((await failure(other.activity(u.userId))).code).toBe('permission_denied');
    expect((await failure(other.activity('nope'))).field).toBe('user_id');
    expect((await failure(other.summary())).code).toBe('permission_denied');
    const admin = userApi(stack.client, { scopes: [READ, WRITE, 'memories:admin'] });
    expect((await admin.activity(u.userId)).searches).toBe(2);
    const s = await admin.summary();
    expect(s.searches).toBeGreaterThanOrEqual(2);
    expect(s.memories).toBe(Object.values(s.memoriesByPermission).reduce((x, y) => x + y, 0));
    expect(s.memories).toBe(await countRows(stack.knex));
    expect(s.users).toBeGreaterThanOrEqual(1);
  });

  it('counts searches per UTC day over the last 30 days, zeros included; another user needs admin', async () => {
    const u = userApi(stack.client);
    const DAY = 24 * 3600 * 1000;
    const daysAgo = (n: number) => new Date(Date.now() - n * DAY);
    // A second recorder on the same database with a chosen clock stands in for earlier days; its
    // flushes go through the same upsert as the service's own recorder and add up with it.
    let clock = daysAgo(40);
    const earlier = new ActivityRecorder(new ActivityStore(stack.knex), testLogger(), () => clock);
    earlier.searched(u.userId); // 40 days ago: kept in the table, outside the window
    clock = daysAgo(3);
    for (let i = 0; i < 4; i++) earlier.searched(u.userId);
    clock = daysAgo(29); // the window's first day
    earlier.searched(u.userId);
    await earlier.flush();
    clock = daysAgo(3);
    earlier.searched(u.userId); // a second flush onto an existing day adds to it
    await earlier.flush();
    await u.query('anything', 1);
    await u.query('anything else', 1);

    const today = utcDay(new Date());
    const a = await u.activity();
    expect(a.searches).toBe(9);
    expect(a.searchesByDay).toHaveLength(30);
    expect(a.searchesByDay[0]!.date).toBe(utcDay(daysAgo(29)));
    expect(a.searchesByDay.at(-1)!.date).toBe(today);
    const dates = a.searchesByDay.map((d) => d.date);
    expect([...dates].sort()).toEqual(dates);
    expect(new Set(dates).size).toBe(30);
    const nonZero = Object.fromEntries(
      a.searchesByDay.filter((d) => d.count > 0).map((d) => [d.date, d.count]),
    );
    expect(nonZero).toEqual({ [utcDay(daysAgo(29))]: 1, [utcDay(daysAgo(3))]: 5, [today]: 2 });
    const stored = await stack
      .knex('user_search_days')
      .where({ user_id: u.userId })
      .count<{ n: string }[]>({ n: '*' });
    expect(Number(stored[0]!.n)).toBe(3 + 1); // days with searches only, the 40-day-old one included

    const other = userApi(stack.client);
    expect((await failure(other.activity(u.userId))).code).toBe('permission_denied');
    const fresh = await other.activity();
    expect(fresh.searchesByDay.map((d) => d.count)).toEqual(Array(30).fill(0));
    const admin = userApi(stack.client, { scopes: [READ, WRITE, 'memories:admin'] });
    expect((await admin.activity(u.userId)).searchesByDay).toEqual(a.searchesByDay);
  });
});
