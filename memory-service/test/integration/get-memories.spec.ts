import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { memoryPb } from '@picard/proto';
import { newId } from '@picard/service-kit';
import { PRIVATE, PUBLIC, SHARED, countRows, failure, startStack, userApi, type Stack } from './harness.js';

const { ExpiredFilter } = memoryPb;
type Api = ReturnType<typeof userApi>;

describe('memory-service: GetMemories', () => {
  let stack: Stack;
  let viewer: Api;
  let other: Api;
  const mine: string[] = [];
  const ids: Record<string, string> = {};

  const expire = (id: string) =>
    stack
      .knex('memories')
      .where({ id })
      .update({ expiration_date: new Date(Date.now() - 1000) });

  beforeAll(async () => {
    stack = await startStack();
    viewer = userApi(stack.client);
    other = userApi(stack.client);
    const third = userApi(stack.client);
    const day = 86_400_000;
    for (let i = 0; i < 7; i++) {
      const m = await viewer.submit({
        text: `own note ${i}`,
        permission: i % 2 ? PUBLIC : PRIVATE,
        tags: i % 3 === 0 ? ['a', 'b'] : ['a'],
        // Some without an expiration date, some sharing one, to exercise ties and nulls.
        ...(i % 3 === 1 ? {} : { expirationDate: new Date(Date.now() + (1 + (i % 2)) * day) }),
      });
      mine.push(m.id);
    }
    // Touch two so updated_at order differs from created_at order.
    await viewer.update(mine[0]!, { tags: ['z'] });
    await viewer.update(mine[3]!, { tags: ['z'] });
    ids.ownExpired = (await viewer.submit({ text: 'own expired', permission: PRIVATE })).id;
    await expire(ids.ownExpired);
    ids.otherPublic = (await other.submit({ text: 'other public', permission: PUBLIC, tags: ['a'] })).id;
    ids.otherPrivate = (await other.submit({ text: 'other private', permission: PRIVATE })).id;
    ids.otherShared = (
      await other.submit({
        text: 'shared to viewer',
        permission: SHARED,
        sharedWith: { users: [viewer.userId], groups: [] },
      })
    ).id;
    ids.otherSharedElse = (
      await other.submit({
        text: 'shared elsewhere',
        permission: SHARED,
        sharedWith: { users: [third.userId], groups: [] },
      })
    ).id;
    ids.otherExpiredPublic = (await other.submit({ text: 'other expired public', permission: PUBLIC })).id;
    await expire(ids.otherExpiredPublic);
  });
  afterAll(() => stack.stop());

  const visible = () => [...mine, ids.otherPublic!, ids.otherShared!].sort();

  it('lists every memory the caller may see and nothing else', async () => {
    const page = await viewer.list();
    expect(page.memories.map((m) => m.id).sort()).toEqual(visible());
    expect(page.nextCursor).toBeUndefined();
    expect(page.memories.find((m) => m.id === ids.otherShared)?.text).toBe('shared to viewer');
    expect((await other.list()).memories.map((m) => m.id)).not.toContain(ids.otherExpiredPublic);
    const stranger = (await userApi(stack.client).list()).memories.map((m) => m.id).sort();
    expect(stranger).toEqual([ids.otherPublic!, mine[1]!, mine[3]!, mine[5]!].sort());
  });

  it('shows expired memories of the caller own only, with INCLUDE and ONLY', async () => {
    const include = (await viewer.list({ expired: ExpiredFilter.EXPIRED_FILTER_INCLUDE })).memories.map(
      (m) => m.id,
    );
    expect(include.sort()).toEqual([...visible(), ids.ownExpired!].sort());
    const only = (await viewer.list({ expired: ExpiredFilter.EXPIRED_FILTER_ONLY })).memories.map(
      (m) => m.id,
    );
    expect(only).toEqual([ids.ownExpired]);
    const othersOnly = (await other.list({ expired: ExpiredFilter.EXPIRED_FILTER_ONLY })).memories.map(
      (m) => m.id,
    );
    expect(othersOnly).toEqual([ids.otherExpiredPublic]);
    expect(
      (await viewer.list({ expired: ExpiredFilter.EXPIRED_FILTER_EXCLUDE })).memories.map((m) => m.id).sort(),
    ).toEqual(visible());
  });

  it('filters by owner, permission, tags and creation window', async () => {
    const of = async (req: Parameters<Api['list']>[0]) =>
      (await viewer.list(req)).memories.map((m) => m.id).sort();
    expect(await of({ userId: other.userId })).toEqual([ids.otherPublic!, ids.otherShared!].sort());
    expect(await of({ userId: other.userId, expired: ExpiredFilter.EXPIRED_FILTER_INCLUDE })).toEqual(
      [ids.otherPublic!, ids.otherShared!].sort(),
    );
    expect(await of({ permission: SHARED })).toEqual([ids.otherShared]);
    expect(await of({ permission: PRIVATE })).toEqual([mine[0]!, mine[2]!, mine[4]!, mine[6]!].sort());
    expect(await of({ tags: ['a', 'b'] })).toEqual([mine[0]!, mine[3]!, mine[6]!].sort());
    expect(await of({ tags: ['z'] })).toEqual([mine[0]!, mine[3]!].sort());
    const created = (await viewer.list({ limit: 500 })).memories.filter((m) => mine.includes(m.id));
    // Timestamps travel at millisecond precision while rows keep microseconds: step past mine[1].
    const t = (id: string) => created.find((m) => m.id === id)!.createdAt!.getTime();
    const window = { createdAfter: new Date(t(mine[1]!) + 1), createdBefore: new Date(t(mine[4]!)) };
    expect(await of({ userId: viewer.userId, ...window })).toEqual([mine[2]!, mine[3]!].sort());
  });

  it('walks every page without duplicates or gaps, for each sort and order', async () => {
    const key = (m: memoryPb.Memory, sort: string) =>
      sort === 'expiration_date'
        ? (m.expirationDate?.getTime() ?? Infinity)
        : (sort === 'updated_at' ? m.updatedAt : m.createdAt)!.getTime();
    for (const sort of ['created_at', 'updated_at', 'expiration_date']) {
      for (const order of ['asc', 'desc']) {
        const walked: memoryPb.Memory[] = [];
        let cursor = '';
        for (let pages = 0; pages < 20; pages++) {
          const page = await viewer.list({
            sort,
            order,
            limit: 3,
            cursor,
            expired: ExpiredFilter.EXPIRED_FILTER_INCLUDE,
          });
          walked.push(...page.memories);
          if (!page.nextCursor) break;
          expect(page.memories).toHaveLength(3);
          cursor = page.nextCursor;
        }
        const got = walked.map((m) => m.id);
        expect(new Set(got).size).toBe(got.length);
        expect([...got].sort()).toEqual([...visible(), ids.ownExpired!].sort());
        const keys = walked.map((m) => key(m, sort));
        const sorted = [...keys].sort((x, y) => (order === 'asc' ? x - y : y - x));
        expect(keys).toEqual(sorted);
        const whole = await viewer.list({
          sort,
          order,
          limit: 500,
          expired: ExpiredFilter.EXPIRED_FILTER_INCLUDE,
        });
        expect(got).toEqual(whole.memories.map((m) => m.id));
      }
    }
    // Defaults: newest first, 50 per page.
    const def = await viewer.list();
    expect(def.memories.map((m) => m.createdAt!.getTime())).toEqual(
      def.memories.map((m) => m.createdAt!.getTime()).sort((x, y) => y - x),
    );
  });

  it('refuses bad input naming the field, writing nothing', async () => {
    const before = await countRows(stack.knex);
    const cursor = (await viewer.list({ limit: 1 })).nextCursor!;
    const cases: [Promise<unknown>, string][] = [
      [viewer.list({ sort: 'name' }), 'sort'],
      [viewer.list({ order: 'up' }), 'order'],
      [viewer.list({ limit: 501 }), 'limit'],
      [viewer.list({ limit: -1 }), 'limit'],
      [viewer.list({ cursor: 'garbage' }), 'cursor'],
      [viewer.list({ cursor, sort: 'updated_at' }), 'cursor'],
      [viewer.list({ cursor, order: 'asc' }), 'cursor'],
      [viewer.list({ userId: 'x' }), 'user_id'],
      [viewer.list({ tags: ['ok', ''] }), 'tags[1]'],
      [viewer.list({ expired: 9 as never }), 'expired'],
      [viewer.list({ permission: 9 as never }), 'permission'],
      [
        viewer.list({ createdAfter: new Date(), createdBefore: new Date(Date.now() - 1000) }),
        'created_before',
      ],
    ];
    for (const [call, field] of cases) {
      const err = await failure(call);
      expect([err.code, err.field]).toEqual(['invalid_argument', field]);
    }
    expect(await countRows(stack.knex)).toBe(before);
    expect((await viewer.list({ userId: newId() })).memories).toEqual([]);
  });
});
