import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId, type BusMessage } from '@picard/service-kit';
import { Metadata } from '@grpc/grpc-js';
import { memoryPb } from '@picard/proto';
import {
  MAX_TEXT,
  PRIVATE,
  PUBLIC,
  READ,
  SHARED,
  WRITE,
  countRows,
  eventFor,
  failure,
  startStack,
  userApi,
  type Stack,
} from './harness.js';

type Api = ReturnType<typeof userApi>;

describe('memory-service: sharing (ModifyPermissions) and UpdateMemory', () => {
  let stack: Stack;
  const events: BusMessage[] = [];

  beforeAll(async () => {
    stack = await startStack();
    await stack.bus.subscribe({
      durable: `test-${stack.schema}`,
      subjects: ['memory.*'],
      handler: async (m) => void events.push(m),
    });
  });
  afterAll(() => stack.stop());

  /** What each read path shows `who` of the given memory ids. */
  async function seenBy(who: Api, ids: string[], query: string) {
    const got = await Promise.all(
      ids.map((id) =>
        who.get(id).then(
          () => true,
          () => false,
        ),
      ),
    );
    const queried = new Set((await who.query(query, 100)).memories.map((m) => m.id));
    const listed = new Set((await who.list({ limit: 500 })).memories.map((m) => m.id));
    return { get: got, query: ids.map((id) => queried.has(id)), list: ids.map((id) => listed.has(id)) };
  }

  it('applies the visibility rule as a matrix: owner/other/share-listed × private/public/shared × every read path', async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const listed = userApi(stack.client);
    const text = 'the lighthouse keeper feeds the gulls at dawn';
    const priv = await owner.submit({ text, permission: PRIVATE });
    const pub = await owner.submit({ text, permission: PUBLIC });
    const shared = await owner.submit({
      text,
      permission: SHARED,
      sharedWith: { users: [listed.userId], groups: [] },
    });
    expect(shared).toMatchObject({ permission: SHARED, sharedWith: { users: [listed.userId], groups: [] } });
    const ids = [priv.id, pub.id, shared.id];
    const row = (v: boolean[]) => ({ get: v, query: v, list: v });
    expect(await seenBy(owner, ids, text)).toEqual(row([true, true, true]));
    expect(await seenBy(other, ids, text)).toEqual(row([false, true, false]));
    expect(await seenBy(listed, ids, text)).toEqual(row([false, true, true]));
    // Only the owner learns who else may read it.
    expect((await owner.get(shared.id)).sharedWith?.users).toEqual([listed.userId]);
    expect((await listed.get(shared.id)).sharedWith?.users).toEqual([]);
    expect(
      (await listed.list({ limit: 500 })).memories.find((m) => m.id === shared.id)?.sharedWith?.users,
    ).toEqual([]);
    // Searches read the owner's share lists in the search statements themselves, in every mode.
    for (const mode of [
      memoryPb.SearchMode.SEARCH_MODE_VECTOR,
      memoryPb.SearchMode.SEARCH_MODE_KEYWORD,
      memoryPb.SearchMode.SEARCH_MODE_HYBRID,
    ]) {
      const found = async (u: typeof owner) =>
        (await u.query(text, 10, { mode })).memories.find((m) => m.id === shared.id)?.sharedWith;
      expect({ mode, shares: await found(owner) }).toEqual({
        mode,
        shares: { users: [listed.userId], groups: [] },
      });
      expect({ mode, shares: await found(listed) }).toEqual({ mode, shares: { users: [], groups: [] } });
    }

    // Sharing the private one, then making the shared one private, moves access with it.
    await owner.share(priv.id, SHARED, [listed.userId, other.userId]);
    await owner.share(shared.id, PRIVATE);
    expect(await seenBy(other, ids, text)).toEqual(row([true, true, false]));
    expect(await seenBy(listed, ids, text)).toEqual(row([true, true, false]));
    expect(await stack.knex('memory_shares').where({ memory_id: shared.id }).pluck('principal_id')).toEqual(
      [],
    );
  });

  it('modifies permissions for the owner only, replacing the shares and emitting memory.permission_changed without text', async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const [a, b] = [newId(), newId()];
    const m = await owner.submit({ text: 'the vault code is quokka 4412', permission: PRIVATE });
    expect((await failure(other.share(m.id, PUBLIC))).code).toBe('not_found');
    const shared = await owner.share(m.id, SHARED, [a, b, a]);
    expect(shared.permission).toBe(SHARED);
    expect([...shared.sharedWith!.users].sort()).toEqual([a, b].sort());
    expect((await failure(other.share(m.id, PUBLIC))).code).toBe('not_found');
    const replaced = await owner.share(m.id, SHARED, [other.userId]);
    expect(replaced.sharedWith?.users).toEqual([other.userId]);
    const denied = await failure(other.share(m.id, PUBLIC));
    expect([denied.code, denied.message]).toEqual([
      'permission_denied',
      'only the owner may change the permissions of a memory',
    ]);
    expect((await failure(other.update(m.id, { text: 'mine now' }))).code).toBe('permission_denied');
    expect((await owner.share(m.id, PUBLIC)).sharedWith?.users).toEqual([]);
    expect((await failure(other.share(m.id, PRIVATE))).code).toBe('permission_denied');
    expect((await failure(other.share(newId(), PRIVATE))).code).toBe('not_found');

    const event = await eventFor(events, 'memory.permission_changed', m.id);
    expect(Object.keys(event!.payload as object).sort()).toEqual([
      'memory_id',
      'occurred_at',
      'permission',
      'previous_permission',
      'user_id',
    ]);
    expect(event!.payload).toMatchObject({
      memory_id: m.id,
      user_id: owner.userId,
      permission: 'shared',
      previous_permission: 'private',
    });
    // A word no event can hold otherwise (ids are hex, and a random id once held "4412").
    expect(JSON.stringify(events)).not.toContain('quokka');
  });

  it('refuses bad sharing input naming the field, writing nothing', async () => {
    const u = userApi(stack.client);
    const m = await u.submit({ text: 'a memory to share', permission: PRIVATE });
    const memories = await countRows(stack.knex);
    const shares = await countRows(stack.knex, 'memory_shares');
    const many = Array.from({ length: 101 }, () => newId());
    const cases: [Promise<unknown>, string][] = [
      [u.share('not-a-uuid', PUBLIC), 'memory_id'],
      [u.share(m.id, 0), 'permission'],
      [u.share(m.id, 9 as never), 'permission'],
      [u.share(m.id, SHARED), 'shared_with'],
      [u.share(m.id, SHARED, [newId(), 'nope']), 'shared_with.users[1]'],
      [u.share(m.id, SHARED, ['12345678-1234-1234-1234-123456789012']), 'shared_with.users[0]'],
      [u.share(m.id, SHARED, [u.userId]), 'shared_with.users[0]'],
      [u.share(m.id, SHARED, many), 'shared_with.users'],
      [u.share(m.id, PRIVATE, [newId()]), 'shared_with'],
      [u.share(m.id, PUBLIC, [newId()]), 'shared_with'],
      [
        u.submit({ text: 'x', permission: SHARED, sharedWith: { users: [u.userId], groups: [] } }),
        'shared_with.users[0]',
      ],
      [
        u.submit({ text: 'x', permission: SHARED, sharedWith: { users: ['x'], groups: [] } }),
        'shared_with.users[0]',
      ],
      [
        u.submit({ text: 'x', permission: SHARED, sharedWith: { users: many, groups: [] } }),
        'shared_with.users',
      ],
    ];
    for (const [call, field] of cases) {
      const err = await failure(call);
      expect([err.code, err.field]).toEqual(['invalid_argument', field]);
    }
    expect(await countRows(stack.knex)).toBe(memories);
    expect(await countRows(stack.knex, 'memory_shares')).toBe(shares);
    expect((await u.get(m.id)).permission).toBe(PRIVATE);
  });

  it('updates text (re-encrypted, re-embedded), expiration and tags, bumping updated_at and emitting memory.updated', async () => {
    const owner = userApi(stack.client);
    const m = await owner.submit({
      text: 'I keep bees in the garden',
      permission: PRIVATE,
      tags: ['home', 'bees'],
    });
    const before = await stack.knex('memories').where({ id: m.id }).first();
    const newText = 'My favourite opera is Tosca by Puccini';
    const u = await owner.update(m.id, { text: newText, tags: ['music', 'home'] });
    expect(u).toMatchObject({
      id: m.id,
      text: newText,
      tags: ['home', 'bees', 'music'],
      embeddingPending: false,
    });
    expect(u.updatedAt!.getTime()).toBeGreaterThan(m.updatedAt!.getTime());
    expect(u.createdAt!.getTime()).toBe(m.createdAt!.getTime());
    const after = await stack.knex('memories').where({ id: m.id }).first();
    expect(Buffer.from(after.ciphertext).toString('latin1')).not.toContain('Tosca');
    expect(Buffer.from(after.ciphertext).equals(Buffer.from(before.ciphertext))).toBe(false);
    expect(after.embedding).not.toEqual(before.embedding);
    const hit = (await owner.query(newText, 1)).memories[0];
    expect(hit?.id).toBe(m.id);
    expect(hit?.similarity).toBeGreaterThan(0.99);

    const expires = new Date(Date.now() + 86_400_000);
    expect(
      (
        await owner.update(m.id, { expirationDate: expires, tags: ['only'], replaceTags: true })
      ).expirationDate?.getTime(),
    ).toBe(expires.getTime());
    const cleared = await owner.update(m.id, { clearExpirationDate: true });
    expect([cleared.expirationDate, cleared.tags, cleared.text]).toEqual([undefined, ['only'], newText]);
    expect((await owner.update(m.id, { replaceTags: true })).tags).toEqual([]);

    const event = await eventFor(events, 'memory.updated', m.id);
    expect(event!.payload).toMatchObject({ memory_id: m.id, user_id: owner.userId, permission: 'private' });
    expect(Object.keys(event!.payload as object).sort()).toEqual([
      'memory_id',
      'occurred_at',
      'permission',
      'user_id',
    ]);
    expect(JSON.stringify(events)).not.toMatch(/Tosca|bees in the garden/);
  });

  it('refuses bad updates naming the field and changes nothing', async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const m = await owner.submit({
      text: 'unchanged text',
      permission: PUBLIC,
      tags: Array.from({ length: 19 }, (_, i) => `t${i}`),
    });
    const row = await stack.knex('memories').where({ id: m.id }).first();
    const cases: [Promise<unknown>, string][] = [
      [owner.update('bad'), 'memory_id'],
      [owner.update(m.id, { text: '' }), 'text'],
      [owner.update(m.id, { text: ' \n ' }), 'text'],
      [owner.update(m.id, { text: 'x'.repeat(MAX_TEXT + 1) }), 'text'],
      [owner.update(m.id, { expirationDate: new Date(Date.now() - 1000) }), 'expiration_date'],
      [
        owner.update(m.id, { expirationDate: new Date(Date.now() + 60_000), clearExpirationDate: true }),
        'expiration_date',
      ],
      [owner.update(m.id, { tags: ['ok', ' '] }), 'tags[1]'],
      [owner.update(m.id, { tags: ['a'.repeat(65)] }), 'tags[0]'],
      [
        owner.update(m.id, { tags: Array.from({ length: 21 }, (_, i) => `n${i}`), replaceTags: true }),
        'tags',
      ],
      // 19 existing + 2 new exceeds the limit only after merging.
      [owner.update(m.id, { text: 'would change', tags: ['n1', 'n2'] }), 'tags'],
    ];
    for (const [call, field] of cases) {
      const err = await failure(call);
      expect([err.code, err.field]).toEqual(['invalid_argument', field]);
    }
    expect((await failure(other.update(m.id, { text: 'hijack' }))).code).toBe('permission_denied');
    expect((await failure(other.update(newId(), { text: 'hijack' }))).code).toBe('not_found');
    expect(await stack.knex('memories').where({ id: m.id }).first()).toEqual(row);
    expect((await owner.get(m.id)).text).toBe('unchanged text');
  });

  it('needs an identity and the right scope for the new calls', async () => {
    const owner = userApi(stack.client);
    const m = await owner.submit({ text: 'scoped', permission: PRIVATE });
    const anon = userApi(stack.client, { metadata: new Metadata() });
    for (const call of [anon.share(m.id, PUBLIC), anon.update(m.id, { text: 'x' }), anon.list()]) {
      expect((await failure(call)).code).toBe('unauthenticated');
    }
    const readOnly = userApi(stack.client, { scopes: [READ] });
    for (const call of [readOnly.share(m.id, PUBLIC), readOnly.update(m.id, { text: 'x' })]) {
      expect((await failure(call)).message).toBe('this call needs the memories:write scope');
    }
    expect((await failure(userApi(stack.client, { scopes: [WRITE] }).list())).message).toBe(
      'this call needs the memories:read scope',
    );
    expect((await owner.get(m.id)).permission).toBe(PRIVATE);
  });

  // Last: it stops the embedder.
  it('keeps writes while the embedder is down, marking them pending instead of losing them', async () => {
    const owner = userApi(stack.client);
    const m = await owner.submit({ text: 'before the outage', permission: PRIVATE });
    expect(m.embeddingPending).toBe(false);
    await stack.embedding.stop();
    const updated = await owner.update(m.id, { text: 'after the outage', tags: ['x'] });
    expect([updated.text, updated.embeddingPending, updated.tags]).toEqual(['after the outage', true, ['x']]);
    const fresh = await owner.submit({ text: 'written during the outage', permission: PRIVATE });
    expect(fresh.embeddingPending).toBe(true);
    const pending = await stack
      .knex('memories')
      .whereIn('id', [m.id, fresh.id])
      .whereNull('embedding')
      .pluck('id');
    expect(pending.sort()).toEqual([m.id, fresh.id].sort());
    // Their events were not lost either (the relay may already have drained them from the outbox).
    expect(await eventFor(events, 'memory.updated', m.id)).toBeDefined();
    expect(await eventFor(events, 'memory.created', fresh.id)).toBeDefined();
    // Both are still readable and listable by their owner, only search waits for the vectors.
    expect((await owner.get(fresh.id)).text).toBe('written during the outage');
  });
});
