import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId, type BusMessage } from '@picard/service-kit';
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

describe('memory-service: storing, reading, deleting', () => {
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

  it('submits a memory and retrieves it, stored encrypted', async () => {
    const alice = userApi(stack.client);
    const text = 'My sister Clara lives in Lisbon and loves surfing';
    const expires = new Date(Date.now() + 3_600_000);
    const m = await alice.submit({
      text,
      permission: PUBLIC,
      expirationDate: expires,
      tags: ['family', ' family '],
    });
    expect(m).toMatchObject({
      userId: alice.userId,
      text,
      permission: PUBLIC,
      tags: ['family'],
      embeddingPending: false,
    });
    expect(m.similarity).toBeUndefined();
    expect(m.expirationDate?.getTime()).toBe(expires.getTime());
    expect(m.createdAt).toBeInstanceOf(Date);

    const page = await alice.retrieve();
    expect(page.memories.map((x) => x.id)).toEqual([m.id]);
    expect(page.nextCursor).toBeUndefined();
    expect(await alice.get(m.id)).toMatchObject({ id: m.id, text });

    const row = await stack.knex('memories').where({ id: m.id }).first();
    expect(Buffer.from(row.ciphertext).toString('utf8')).not.toContain('Lisbon');
    expect(Buffer.from(row.ciphertext).toString('latin1')).not.toContain('Lisbon');
    expect(row.key_id).toBe('k1');
    expect(Buffer.from(row.iv)).toHaveLength(12);
    expect(row.embedding_model).toBe('universal-sentence-encoder-lite');
  });

  it('publishes memory.created without the text', async () => {
    const alice = userApi(stack.client);
    const m = await alice.submit({ text: 'the secret recipe uses cardamom', permission: PRIVATE });
    for (
      let i = 0;
      i < 100 && !events.some((e) => (e.payload as { memory_id: string }).memory_id === m.id);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 30));
    }
    const event = events.find((e) => (e.payload as { memory_id: string }).memory_id === m.id);
    expect(event?.subject).toBe('memory.created');
    expect(Object.keys(event!.payload as object).sort()).toEqual([
      'memory_id',
      'occurred_at',
      'permission',
      'user_id',
    ]);
    expect(event!.payload).toMatchObject({ memory_id: m.id, user_id: alice.userId, permission: 'private' });
    expect(JSON.stringify(event)).not.toContain('cardamom');
  });

  it('pages newest first with an opaque cursor', async () => {
    const bob = userApi(stack.client);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await bob.submit({ text: `note number ${i}` })).id);
    const first = await bob.retrieve({ limit: 2 });
    const second = await bob.retrieve({ limit: 2, cursor: first.nextCursor! });
    const third = await bob.retrieve({ limit: 2, cursor: second.nextCursor! });
    expect([...first.memories, ...second.memories, ...third.memories].map((m) => m.id)).toEqual(
      ids.reverse(),
    );
    expect(third.nextCursor).toBeUndefined();
    expect((await failure(bob.retrieve({ cursor: 'not-a-cursor' }))).field).toBe('cursor');
    expect((await failure(bob.retrieve({ limit: 1001 }))).field).toBe('limit');
  });

  it('never shows a private memory to another user, and shows a public one', async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const secret = await owner.submit({ text: 'my bank PIN hint is the dog', permission: PRIVATE });
    const open = await owner.submit({ text: 'I run a bakery on Main Street', permission: PUBLIC });
    expect((await other.retrieve()).memories).toEqual([]);
    expect((await failure(other.get(secret.id))).code).toBe('not_found');
    expect(await other.get(open.id)).toMatchObject({
      id: open.id,
      text: open.text,
      sharedWith: { users: [], groups: [] },
    });
    // Not found and invisible look the same.
    const missing = await failure(other.get(newId()));
    expect([missing.code, missing.message.replace(/[0-9a-f-]{36}/, 'ID')]).toEqual([
      'not_found',
      (await failure(other.get(secret.id))).message.replace(/[0-9a-f-]{36}/, 'ID'),
    ]);
  });

  it('never returns an expired memory, not even to its owner', async () => {
    const owner = userApi(stack.client);
    const m = await owner.submit({ text: 'parking ticket for tuesday', permission: PUBLIC });
    await stack
      .knex('memories')
      .where({ id: m.id })
      .update({ expiration_date: new Date(Date.now() - 1000) });
    expect((await owner.retrieve()).memories).toEqual([]);
    expect((await failure(owner.get(m.id))).code).toBe('not_found');
    expect((await owner.query('parking ticket')).memories.map((x) => x.id)).not.toContain(m.id);
    expect((await failure(userApi(stack.client).get(m.id))).code).toBe('not_found');
  });

  it('refuses bad input naming the field, writing nothing', async () => {
    const u = userApi(stack.client);
    const before = await countRows(stack.knex);
    const outboxBefore = await countRows(stack.knex, 'outbox');
    const cases: [Promise<unknown>, string][] = [
      [u.submit({ text: '' }), 'text'],
      [u.submit({ text: '   \n\t ' }), 'text'],
      [u.submit({ text: 'x'.repeat(MAX_TEXT + 1) }), 'text'],
      [u.submit({ text: 'ok', permission: 0 }), 'permission'],
      [u.submit({ text: 'ok', permission: 7 as never }), 'permission'],
      [u.submit({ text: 'ok', permission: SHARED }), 'shared_with'],
      [u.submit({ text: 'ok', expirationDate: new Date(Date.now() - 60_000) }), 'expiration_date'],
      [u.submit({ text: 'ok', tags: ['fine', ''] }), 'tags[1]'],
      [u.submit({ text: 'ok', sharedWith: { users: [newId()], groups: [] } }), 'shared_with'],
      [u.get('not-a-uuid'), 'memory_id'],
      [u.get(''), 'memory_id'],
      [u.remove('12345678-1234-1234-1234-123456789012'), 'memory_id'],
      [u.query(''), 'query'],
      [u.query('x'.repeat(MAX_TEXT + 1)), 'query'],
      [u.query('fine', 101), 'limit'],
      [u.query('fine', -1), 'limit'],
    ];
    for (const [call, field] of cases) {
      const err = await failure(call);
      expect([err.code, err.field]).toEqual(['invalid_argument', field]);
    }
    expect(await countRows(stack.knex)).toBe(before);
    expect(await countRows(stack.knex, 'outbox')).toBeLessThanOrEqual(outboxBefore);
  });

  it('needs an identity and the right scope', async () => {
    const before = await countRows(stack.knex);
    const { Metadata } = await import('@grpc/grpc-js');
    const anonymous = userApi(stack.client, { metadata: new Metadata() });
    for (const call of [
      anonymous.submit({ text: 'hi' }),
      anonymous.retrieve(),
      anonymous.query('hi'),
      anonymous.get(newId()),
    ]) {
      expect((await failure(call)).code).toBe('unauthenticated');
    }
    const readOnly = userApi(stack.client, { scopes: [READ] });
    const w = await failure(readOnly.submit({ text: 'hi' }));
    expect([w.code, w.message]).toEqual(['permission_denied', 'this call needs the memories:write scope']);
    expect((await failure(readOnly.remove(newId()))).message).toMatch(/memories:write/);
    const writeOnly = userApi(stack.client, { scopes: [WRITE] });
    for (const call of [writeOnly.retrieve(), writeOnly.query('hi'), writeOnly.get(newId())]) {
      const e = await failure(call);
      expect([e.code, e.message]).toEqual(['permission_denied', 'this call needs the memories:read scope']);
    }
    expect(await countRows(stack.knex)).toBe(before);
  });

  it('lets only the owner delete, and publishes memory.deleted', async () => {
    const owner = userApi(stack.client);
    const other = userApi(stack.client);
    const secret = await owner.submit({ text: 'private thought', permission: PRIVATE });
    const open = await owner.submit({ text: 'public thought', permission: PUBLIC });
    expect((await failure(other.remove(secret.id))).code).toBe('not_found');
    expect((await failure(other.remove(open.id))).code).toBe('permission_denied');
    expect((await failure(other.remove(newId()))).code).toBe('not_found');
    expect(await owner.remove(secret.id)).toEqual({ memoryId: secret.id, deleted: true });
    expect((await failure(owner.get(secret.id))).code).toBe('not_found');
    expect((await failure(owner.remove(secret.id))).code).toBe('not_found');
    // Other suites publish on the same bus in the cluster pass: look for this memory's event.
    expect((await eventFor(events, 'memory.deleted', secret.id))?.payload).toMatchObject({
      memory_id: secret.id,
      user_id: owner.userId,
      permission: 'private',
    });
  });
});
