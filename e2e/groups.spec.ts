import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ADMIN,
  basic,
  bearer,
  callTool,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

type Group = { id: string; owner_id: string; name: string; member_ids: string[]; created_at: string };
type Memory = {
  id: string;
  text: string;
  permission: string;
  shared_with: { users: string[]; groups: string[] };
};

const NEW_TOOLS = [
  'submit_memories',
  'delete_memories',
  'export_memories',
  'import_memories',
  'create_group',
  'rename_group',
  'delete_group',
  'add_group_member',
  'remove_group_member',
  'list_groups',
  'get_activity',
];

/** Groups, group shares, activity and the admin summary, over REST and through a stock MCP client. */
describe('groups, group sharing and activity', () => {
  let t: TestStack;
  let owner: UserToken;
  let member: UserToken;
  let outsider: UserToken;
  let readOnly: UserToken;
  let writeOnly: UserToken;
  const tool = async (who: UserToken, name: string, data: unknown) =>
    callTool(t, who.access_token, name, data);
  const ids = (r: { json: { result: { memories: { id: string }[] } } }) =>
    r.json.result.memories.map((m) => m.id);

  const connect = async (token: string) => {
    const client = new Client({ name: 'e2e-groups', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    await client.listTools();
    return client;
  };
  const mcp = async (who: UserToken, name: string, args: Record<string, unknown>) => {
    const client = await connect(who.access_token);
    try {
      return await client.callTool({ name, arguments: args });
    } finally {
      await client.close();
    }
  };

  beforeAll(async () => {
    t = await startTestStack();
    const client = await registerClient(t);
    owner = await userToken(t, client, 'gina');
    member = await userToken(t, client, 'moritz');
    outsider = await userToken(t, client, 'ozzy');
    readOnly = await userToken(t, await registerClient(t, ['memories:read']), 'rudi');
    writeOnly = await userToken(t, await registerClient(t, ['memories:write']), 'wanda');
  });
  afterAll(() => t?.stop());

  it('lists every new tool over MCP and in the OpenAPI document', async () => {
    const client = await connect(owner.access_token);
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name)).toEqual(expect.arrayContaining(NEW_TOOLS));
    const query = tools.find((x) => x.name === 'query_memory')!;
    expect(Object.keys(query.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['user_id', 'permission', 'tags', 'min_similarity', 'hybrid']),
    );
    await client.close();
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const name of NEW_TOOLS) expect(doc.paths).toHaveProperty([`/api/tools/${name}`]);
    expect(doc.paths).toHaveProperty(['/api/admin/summary']);
  });

  it('manages a group over MCP: create, add, rename, list, remove, delete', async () => {
    const created = await mcp(owner, 'create_group', { name: 'Book club' });
    expect(created.isError).toBeFalsy();
    const g = created.structuredContent as Group;
    expect(g).toMatchObject({ owner_id: owner.user_id, name: 'Book club', member_ids: [owner.user_id] });

    const added = (await mcp(owner, 'add_group_member', { group_id: g.id, user_id: member.user_id }))
      .structuredContent as Group;
    expect(added.member_ids.sort()).toEqual([owner.user_id, member.user_id].sort());
    const renamed = (await mcp(owner, 'rename_group', { group_id: g.id, name: 'Reading circle' }))
      .structuredContent as Group;
    expect(renamed).toMatchObject({ id: g.id, name: 'Reading circle' });

    const seenByMember = (await mcp(member, 'list_groups', {})).structuredContent as { groups: Group[] };
    expect(seenByMember.groups.map((x) => x.id)).toContain(g.id);
    const seenByOutsider = (await mcp(outsider, 'list_groups', {})).structuredContent as { groups: Group[] };
    expect(seenByOutsider.groups).toEqual([]);

    const byMember = await mcp(member, 'rename_group', { group_id: g.id, name: 'Mine now' });
    expect(byMember.isError).toBe(true);
    expect(JSON.stringify(byMember.content)).toMatch(/permission_denied/);
    const byOutsider = await mcp(outsider, 'delete_group', { group_id: g.id });
    expect(JSON.stringify(byOutsider.content)).toMatch(/not_found/);

    const removed = (await mcp(owner, 'remove_group_member', { group_id: g.id, user_id: member.user_id }))
      .structuredContent as Group;
    expect(removed.member_ids).toEqual([owner.user_id]);
    expect((await mcp(owner, 'delete_group', { group_id: g.id })).structuredContent).toEqual({
      group_id: g.id,
      deleted: true,
    });
    expect(((await mcp(owner, 'list_groups', {})).structuredContent as { groups: Group[] }).groups).toEqual(
      [],
    );
  });

  it('shares a memory with a group: members see it, others do not, leaving ends it (REST)', async () => {
    const g = (await tool(owner, 'create_group', { name: 'Family' })).json.result as Group;
    expect((await tool(owner, 'add_group_member', { group_id: g.id, user_id: member.user_id })).status).toBe(
      200,
    );
    const dup = await tool(owner, 'create_group', { name: 'family' });
    expect(dup.status).toBe(409);

    const shared = await tool(owner, 'submit_memory', {
      text: 'The holiday cottage key code is 8812',
      permission: 'shared',
      shared_with: { groups: [g.id] },
    });
    expect(shared.status).toBe(200);
    const m = shared.json.result as Memory;
    expect(m.shared_with).toEqual({ users: [], groups: [g.id] });

    const q = { query: 'what is the cottage key code?' };
    expect(ids(await tool(member, 'query_memory', q))).toContain(m.id);
    expect(ids(await tool(member, 'get_memories', { user_id: owner.user_id }))).toContain(m.id);
    expect(ids(await tool(outsider, 'query_memory', q))).not.toContain(m.id);
    expect(ids(await tool(outsider, 'get_memories', { user_id: owner.user_id }))).not.toContain(m.id);

    // Only groups the owner owns or belongs to may be named.
    const foreign = (await tool(outsider, 'create_group', { name: 'Not yours' })).json.result as Group;
    const refused = await tool(owner, 'modify_permissions', {
      memory_id: m.id,
      permission: 'shared',
      shared_with: { groups: [foreign.id] },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.field).toMatch(/^data\.shared_with\.groups/);

    const left = await tool(member, 'remove_group_member', { group_id: g.id, user_id: member.user_id });
    expect(left.status).toBe(200);
    expect(ids(await tool(member, 'query_memory', q))).not.toContain(m.id);
    expect(ids(await tool(member, 'get_memories', { user_id: owner.user_id }))).not.toContain(m.id);

    // Sharing through modify_permissions, over MCP this time.
    await tool(owner, 'add_group_member', { group_id: g.id, user_id: member.user_id });
    const priv = (
      await tool(owner, 'submit_memory', {
        text: 'Grandpa turns ninety on the 3rd of March',
        permission: 'private',
      })
    ).json.result as Memory;
    const viaMcp = await mcp(owner, 'modify_permissions', {
      memory_id: priv.id,
      permission: 'shared',
      shared_with: { groups: [g.id], users: [outsider.user_id] },
    });
    expect(viaMcp.structuredContent).toMatchObject({
      permission: 'shared',
      shared_with: { users: [outsider.user_id], groups: [g.id] },
    });
    const found = await mcp(member, 'query_memory', {
      query: 'when is grandpa’s birthday?',
      permission: 'shared',
      user_id: owner.user_id,
    });
    expect((found.structuredContent as { memories: Memory[] }).memories.map((x) => x.id)).toContain(priv.id);
  });

  it('reports activity to its user, and a summary to the admin only', async () => {
    await tool(outsider, 'submit_memories', {
      memories: [
        { text: 'Ozzy public note', permission: 'public' },
        { text: 'Ozzy private note', permission: 'private' },
      ],
    });
    await tool(outsider, 'query_memory', { query: 'notes' });
    const rest = await tool(outsider, 'get_activity', {});
    expect(rest.status).toBe(200);
    expect(rest.json.result).toMatchObject({
      user_id: outsider.user_id,
      memories_by_permission: { private: 1, public: 1, shared: 0 },
    });
    expect(rest.json.result.searches).toBeGreaterThanOrEqual(1);
    expect(Date.parse(rest.json.result.last_activity)).not.toBeNaN();
    // Searches over time: 30 UTC days up to today, oldest first, days without searches as 0.
    await tool(outsider, 'query_memory', { query: 'groceries' });
    await tool(outsider, 'query_memory', { query: 'holidays' });
    const today = new Date().toISOString().slice(0, 10);
    const later = (await tool(outsider, 'get_activity', {})).json.result;
    const byDay = later.searches_by_day as { date: string; count: number }[];
    expect(later.searches).toBe(rest.json.result.searches + 2);
    expect(byDay).toHaveLength(30);
    expect(byDay.at(-1)).toEqual({ date: today, count: later.searches }); // a new stack: every search was today
    expect(byDay[0]!.date).toBe(new Date(Date.now() - 29 * 24 * 3600 * 1000).toISOString().slice(0, 10));
    expect(byDay.slice(0, -1).every((d) => d.count === 0)).toBe(true);

    const viaMcp = await mcp(outsider, 'get_activity', { user_id: outsider.user_id });
    expect(viaMcp.structuredContent).toMatchObject({
      user_id: outsider.user_id,
      memories_by_permission: { private: 1, public: 1 },
    });
    const fresh = (await tool(readOnly, 'get_activity', {})).json.result;
    expect(fresh).toEqual({
      user_id: readOnly.user_id,
      memories_by_permission: { private: 0, public: 0, shared: 0 },
      searches: 0,
      last_activity: null,
      searches_by_day: expect.any(Array),
    });
    expect(fresh.searches_by_day.map((d: { count: number }) => d.count)).toEqual(Array(30).fill(0));

    const snoop = await tool(member, 'get_activity', { user_id: outsider.user_id });
    expect(snoop.status).toBe(403);
    const snoopMcp = await mcp(member, 'get_activity', { user_id: outsider.user_id });
    expect(snoopMcp.isError).toBe(true);

    const summary = await fetch(`${t.url}/api/admin/summary`, {
      headers: { authorization: basic(ADMIN.username, ADMIN.password) },
    });
    expect(summary.status).toBe(200);
    const body = (await summary.json()) as {
      users: number;
      memories: number;
      memories_by_permission: Record<string, number>;
      searches: number;
    };
    expect(body.users).toBeGreaterThanOrEqual(3);
    const {
      private: p,
      public: pub,
      shared,
    } = body.memories_by_permission as { private: number; public: number; shared: number };
    expect(p + pub + shared).toBe(body.memories);
    expect(body.searches).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${t.url}/api/admin/summary`)).status).toBe(401);
    expect((await fetch(`${t.url}/api/admin/summary`, { headers: bearer(owner.access_token) })).status).toBe(
      403,
    );
  });

  it('answers bad input with 400 naming the field, a missing token with 401, a wrong scope with 403', async () => {
    const uuid = randomUUID();
    const bad: [string, unknown, string][] = [
      ['create_group', {}, 'data.name'],
      ['create_group', { name: 7 }, 'data.name'],
      ['create_group', { name: '' }, 'data.name'],
      ['create_group', { name: 'x'.repeat(101) }, 'data.name'],
      ['create_group', { name: '   ' }, 'data.name'],
      ['rename_group', { group_id: 'club', name: 'x' }, 'data.group_id'],
      ['rename_group', { group_id: uuid, name: 'x'.repeat(101) }, 'data.name'],
      ['delete_group', { group_id: 42 }, 'data.group_id'],
      ['add_group_member', { group_id: uuid, user_id: 'mo' }, 'data.user_id'],
      ['add_group_member', { group_id: uuid }, 'data.user_id'],
      ['remove_group_member', { group_id: 'x', user_id: uuid }, 'data.group_id'],
      ['list_groups', { owner: uuid }, 'data.owner'],
      ['get_activity', { user_id: 'me' }, 'data.user_id'],
      ['get_activity', { user_id: 5 }, 'data.user_id'],
    ];
    for (const [name, data, field] of bad) {
      const res = await tool(owner, name, data);
      expect({ name, status: res.status, field: res.json.field }).toEqual({ name, status: 400, field });
    }
    const g = (await tool(owner, 'create_group', { name: 'Scopes' })).json.result as Group;
    const calls: [string, unknown, UserToken][] = [
      ['create_group', { name: 'x' }, readOnly],
      ['rename_group', { group_id: g.id, name: 'y' }, readOnly],
      ['delete_group', { group_id: g.id }, readOnly],
      ['add_group_member', { group_id: g.id, user_id: member.user_id }, readOnly],
      ['remove_group_member', { group_id: g.id, user_id: member.user_id }, readOnly],
      ['list_groups', {}, writeOnly],
      ['get_activity', {}, writeOnly],
    ];
    for (const [name, data, wrongScope] of calls) {
      const anonymous = await fetch(`${t.url}/api/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tool: name, data }),
      });
      expect(anonymous.status).toBe(401);
      const res = await tool(wrongScope, name, data);
      expect({ name, status: res.status }).toEqual({ name, status: 403 });
    }
    // Over MCP the scope gate answers 403 with a step-up challenge before the tool runs.
    const client = await connect(readOnly.access_token);
    await expect(client.callTool({ name: 'create_group', arguments: { name: 'nope' } })).rejects.toThrow(
      /403|insufficient_scope/,
    );
    await client.close();
    const stillOne = (await tool(owner, 'list_groups', {})).json.result.groups as Group[];
    expect(stillOne.find((x) => x.id === g.id)?.name).toBe('Scopes');
  });
});
