import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MEMORY_LIMITS } from '@picard/proto';
import {
  callTool,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

type Memory = {
  id: string;
  user_id: string;
  text: string;
  permission: string;
  tags: string[];
  shared_with: { users: string[] };
  expiration_date: string | null;
};

/** The memory tools beyond the foundation's three, over REST (MCP shares the same code path). */
describe('memory tools: sharing, updates, deletion, filtered listing', () => {
  let t: TestStack;
  let owner: UserToken;
  let friend: UserToken;
  let stranger: UserToken;
  const tool = async (who: UserToken, name: string, data: unknown) =>
    callTool(t, who.access_token, name, data);
  const ids = (r: { json: { result: { memories: { id: string }[] } } }) =>
    r.json.result.memories.map((m) => m.id);

  beforeAll(async () => {
    t = await startTestStack();
    const client = await registerClient(t);
    owner = await userToken(t, client, 'olga');
    friend = await userToken(t, client, 'fritz');
    stranger = await userToken(t, client, 'stan');
  });
  afterAll(() => t?.stop());

  it('pages retrieve_memories with a cursor, naming bad paging input', async () => {
    const pager = await userToken(t, await registerClient(t), 'paula');
    for (const text of ['first note', 'second note', 'third note']) {
      expect((await tool(pager, 'submit_memory', { text, permission: 'private' })).status).toBe(200);
    }
    const one = await tool(pager, 'retrieve_memories', { limit: 2 });
    expect(one.json.result.memories.map((m: Memory) => m.text)).toEqual(['third note', 'second note']);
    expect(typeof one.json.result.next_cursor).toBe('string');
    const two = await tool(pager, 'retrieve_memories', { limit: 2, cursor: one.json.result.next_cursor });
    expect([two.json.result.memories.map((m: Memory) => m.text), two.json.result.next_cursor]).toEqual([
      ['first note'],
      null,
    ]);
    expect((await tool(pager, 'retrieve_memories', {})).json.result.memories).toHaveLength(3);
    for (const [data, field] of [
      [{ limit: 0 }, 'data.limit'],
      [{ limit: 'ten' }, 'data.limit'],
      [{ cursor: 'not-a-cursor' }, 'data.cursor'],
    ] as const) {
      const res = await tool(pager, 'retrieve_memories', data);
      expect([res.status, res.json.field]).toEqual([400, field]);
    }
  });

  it('shares a memory with chosen users only, and the owner can change that', async () => {
    const shared = await tool(owner, 'submit_memory', {
      text: 'The spare key hides under the blue flower pot',
      permission: 'shared',
      shared_with: { users: [friend.user_id] },
      tags: ['home'],
    });
    expect(shared.status).toBe(200);
    const m = shared.json.result as Memory;
    expect(m).toMatchObject({
      permission: 'shared',
      tags: ['home'],
      shared_with: { users: [friend.user_id] },
    });

    expect(ids(await tool(friend, 'query_memory', { query: 'where is the spare key?' }))).toContain(m.id);
    expect(ids(await tool(stranger, 'query_memory', { query: 'where is the spare key?' }))).not.toContain(
      m.id,
    );
    const seenByFriend = (await tool(friend, 'get_memories', { user_id: owner.user_id })).json.result
      .memories as Memory[];
    expect(seenByFriend.find((x) => x.id === m.id)?.shared_with.users).toEqual([]);

    const bad = await tool(owner, 'modify_permissions', {
      memory_id: m.id,
      permission: 'shared',
      shared_with: { users: ['nope'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.field).toMatch(/^data\.shared_with\.users/);
    const byOther = await tool(friend, 'modify_permissions', { memory_id: m.id, permission: 'public' });
    expect(byOther.status).toBe(403);

    const priv = await tool(owner, 'modify_permissions', { memory_id: m.id, permission: 'private' });
    expect(priv.json.result).toMatchObject({ permission: 'private', shared_with: { users: [] } });
    expect(ids(await tool(friend, 'query_memory', { query: 'where is the spare key?' }))).not.toContain(m.id);
  });

  it('updates text (re-embedded), expiry and tags; only the owner may', async () => {
    const m = (
      await tool(owner, 'submit_memory', { text: 'Dentist appointment on Monday', permission: 'private' })
    ).json.result as Memory;
    const upd = await tool(owner, 'update_memory', {
      memory_id: m.id,
      text: 'Violin lesson moved to Thursday evening',
      tags: ['music'],
    });
    expect(upd.status).toBe(200);
    expect(upd.json.result).toMatchObject({
      text: 'Violin lesson moved to Thursday evening',
      tags: ['music'],
    });
    const found = await tool(owner, 'query_memory', { query: 'when is my violin class?', limit: 1 });
    expect(ids(found)).toEqual([m.id]);
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      (await tool(owner, 'update_memory', { memory_id: m.id, expiration_date: soon })).json.result
        .expiration_date,
    ).toBe(soon);
    expect(
      (await tool(owner, 'update_memory', { memory_id: m.id, expiration_date: null })).json.result
        .expiration_date,
    ).toBeNull();
    expect((await tool(stranger, 'update_memory', { memory_id: m.id, text: 'hijacked' })).status).toBe(404);
    expect((await tool(owner, 'update_memory', { memory_id: 'x', text: 'y' })).json.field).toBe(
      'data.memory_id',
    );
  });

  it('deletes only the owner’s memory; the search forgets it', async () => {
    const m = (
      await tool(owner, 'submit_memory', { text: 'Parking spot number 42 on level B', permission: 'public' })
    ).json.result as Memory;
    expect((await tool(stranger, 'delete_memory', { memory_id: m.id })).status).toBe(403);
    const del = await tool(owner, 'delete_memory', { memory_id: m.id });
    expect(del.json.result).toEqual({ memory_id: m.id, deleted: true });
    expect(ids(await tool(stranger, 'query_memory', { query: 'parking spot level B' }))).not.toContain(m.id);
    expect((await tool(owner, 'delete_memory', { memory_id: m.id })).status).toBe(404);
    expect((await tool(owner, 'delete_memory', { memory_id: 'not-a-uuid' })).json.field).toBe(
      'data.memory_id',
    );
  });

  it('query_memory modes: keyword finds the exact word, hybrid is the default, a bad mode names the field', async () => {
    await tool(owner, 'submit_memory', {
      text: 'Dinner with the team at a sushi place downtown',
      permission: 'private',
    });
    const rare = (
      await tool(owner, 'submit_memory', {
        text: 'The plumber Thaddeus comes on Monday',
        permission: 'private',
      })
    ).json.result as Memory;
    const keyword = await tool(owner, 'query_memory', { query: 'Thaddeus', mode: 'keyword' });
    expect(keyword.status).toBe(200);
    expect(ids(keyword)).toEqual([rare.id]);
    expect(ids(await tool(owner, 'query_memory', { query: 'when is Thaddeus coming?', limit: 1 }))).toEqual([
      rare.id,
    ]);
    expect(
      (await tool(stranger, 'query_memory', { query: 'Thaddeus', mode: 'keyword' })).json.result.memories,
    ).toEqual([]);
    const bad = await tool(owner, 'query_memory', { query: 'x', mode: 'fuzzy' });
    expect([bad.status, bad.json.field]).toEqual([400, 'data.mode']);
  });

  it('trims tags before checking their length, as the service stores them; a blank tag names its place', async () => {
    const longest = 'x'.repeat(MEMORY_LIMITS.tagChars);
    const ok = await tool(owner, 'submit_memory', {
      text: 'a memory with padded tags',
      permission: 'private',
      tags: [`  ${longest}  `, ' padded '],
    });
    expect(ok.status).toBe(200);
    expect(ok.json.result.tags).toEqual([longest, 'padded']);
    const blank = await tool(owner, 'submit_memory', {
      text: 'x',
      permission: 'private',
      tags: ['ok', '   '],
    });
    expect(blank.status).toBe(400);
    expect(blank.json.field).toBe('data.tags.1');
  });

  it('lists with filters and walks pages without gaps or duplicates', async () => {
    for (let i = 0; i < 7; i++)
      await tool(friend, 'submit_memory', {
        text: `Recipe card number ${i}`,
        permission: 'public',
        tags: ['recipes'],
      });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await tool(stranger, 'get_memories', {
        user_id: friend.user_id,
        tags: ['recipes'],
        limit: 3,
        sort: 'created_at',
        order: 'asc',
        ...(cursor ? { cursor } : {}),
      });
      expect(page.status).toBe(200);
      seen.push(...ids(page));
      cursor = page.json.result.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect((await tool(stranger, 'get_memories', { sort: 'size' })).json.field).toBe('data.sort');
    expect((await tool(stranger, 'get_memories', { cursor: 'garbage' })).json.field).toBe('data.cursor');
  });
});
