import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as Client2026,
  StreamableHTTPClientTransport as Transport2026,
} from '@modelcontextprotocol/client';
import {
  bearer,
  callTool,
  post,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

type Persona = { user_id: string; display_name: string; listed: boolean };
type PersonaPage = { personas: Persona[]; next_cursor: string | null };
type UserRef = { user_id: string; username: string };

/** Small, so the suite reaches it; every other test keeps each user below it. */
const LOOKUPS_PER_MINUTE = 4;

async function connect(t: TestStack, token: string) {
  const client = new Client({ name: 'e2e-directory', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

async function connect2026(t: TestStack, token: string) {
  const client = new Client2026(
    { name: 'e2e-directory-2026', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(
    new Transport2026(new URL(`${t.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

/** A raw MCP tools/call, for the cases a stock client cannot send (no token, a forged one). */
const rawMcpCall = (t: TestStack, name: string, args: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });

const textOf = (res: unknown) => (res as { content: { text: string }[] }).content[0]!.text;

describe('directory tools: list_personas and lookup_users', () => {
  let t: TestStack;
  let client: { client_id: string; client_secret: string };
  let ada: UserToken;
  let bob: UserToken;
  let cleo: UserToken;
  let writeOnly: UserToken;
  let n = 0;
  /** A fresh user of the full-scope client: a fresh rate-limit budget too. */
  const newUser = async (prefix = 'user') => userToken(t, client, `${prefix}-${(n += 1)}`);
  const tool = (who: UserToken, name: string, data: unknown) => callTool(t, who.access_token, name, data);
  const list = async (who: UserToken, data: object) => {
    const res = await tool(who, 'list_personas', data);
    expect(res.status).toBe(200);
    return res.json.result as PersonaPage;
  };

  beforeAll(async () => {
    t = await startTestStack({ GATEWAY_LOOKUP_USERS_PER_MINUTE: String(LOOKUPS_PER_MINUTE) });
    client = await registerClient(t);
    ada = await userToken(t, client, 'Ada.Lovelace');
    bob = await userToken(t, client, 'bob');
    cleo = await userToken(t, client, 'cleo');
    writeOnly = await userToken(t, await registerClient(t, ['memories:write']), 'wanda');
  });
  afterAll(() => t?.stop());

  describe('list_personas', () => {
    it('shows the personas whose owners listed themselves through update_persona, searched by name', async () => {
      const set = async (who: UserToken, data: object) => {
        const res = await tool(who, 'update_persona', data);
        expect(res.status).toBe(200);
        return res.json.result as Persona;
      };
      expect((await tool(ada, 'get_persona', { user_id: ada.user_id })).json.result.listed).toBe(false);
      expect(await set(ada, { display_name: 'Ada 100% Analytical', listed: true })).toMatchObject({
        listed: true,
      });
      await set(bob, { display_name: 'Bob 100 Builder', listed: true });
      await set(cleo, { display_name: 'Cleo Analytical' });
      expect((await tool(cleo, 'get_persona', { user_id: bob.user_id })).json.result.listed).toBe(true);

      const everyone = await list(cleo, {});
      expect(everyone.personas.map((p) => p.display_name)).toEqual([
        'Ada 100% Analytical',
        'Bob 100 Builder',
      ]);
      expect(everyone.next_cursor).toBeNull();
      expect(everyone.personas.every((p) => p.listed)).toBe(true);
      expect((await list(cleo, { query: 'analytical' })).personas.map((p) => p.user_id)).toEqual([
        ada.user_id,
      ]);
      // `%` is the text itself, not a wildcard.
      expect((await list(cleo, { query: '100%' })).personas.map((p) => p.user_id)).toEqual([ada.user_id]);

      // Unlisting takes the persona out at once.
      await set(bob, { listed: false });
      expect((await list(cleo, {})).personas.map((p) => p.user_id)).toEqual([ada.user_id]);
      await set(bob, { listed: true });
    });

    it('pages with next_cursor, the same over REST and MCP (2025 and 2026 clients)', async () => {
      const more: UserToken[] = [];
      for (let i = 0; i < 4; i += 1) {
        const u = await newUser('pager');
        await tool(u, 'update_persona', { display_name: `Zed ${i}`, listed: true });
        more.push(u);
      }
      const first = await list(cleo, { query: 'zed', limit: 3 });
      expect(first.personas.map((p) => p.display_name)).toEqual(['Zed 0', 'Zed 1', 'Zed 2']);
      expect(first.next_cursor).toEqual(expect.any(String));
      const second = await list(cleo, { query: 'zed', limit: 3, cursor: first.next_cursor });
      expect(second).toMatchObject({ personas: [{ display_name: 'Zed 3' }], next_cursor: null });

      const mcp = await connect(t, cleo.access_token);
      const viaMcp = await mcp.callTool({ name: 'list_personas', arguments: { query: 'zed', limit: 3 } });
      await mcp.close();
      expect(viaMcp.isError).toBeFalsy();
      expect(viaMcp.structuredContent).toEqual(first);
      expect(JSON.parse(textOf(viaMcp))).toEqual(first);

      const mcp2026 = await connect2026(t, cleo.access_token);
      const next = await mcp2026.callTool({
        name: 'list_personas',
        arguments: { query: 'zed', limit: 3, cursor: first.next_cursor },
      });
      await mcp2026.close();
      expect(next.structuredContent).toEqual(second);
    });
  });

  describe('lookup_users', () => {
    it('turns exact usernames into ids and ids into usernames, never emails (REST and MCP)', async () => {
      const caller = await newUser('looker');
      const byName = await tool(caller, 'lookup_users', {
        usernames: ['ada.lovelace', 'BOB', 'bo', 'nobody'],
      });
      expect(byName.status).toBe(200);
      expect(byName.json.result).toEqual({
        users: [
          { user_id: ada.user_id, username: 'Ada.Lovelace' },
          { user_id: bob.user_id, username: 'bob' },
        ],
      });
      const byId = await tool(caller, 'lookup_users', { user_ids: [cleo.user_id, randomUUID()] });
      expect(byId.json.result).toEqual({ users: [{ user_id: cleo.user_id, username: 'cleo' }] });
      expect(byName.text + byId.text).not.toContain('@example.test');

      const mcp = await connect(t, caller.access_token);
      const viaMcp = await mcp.callTool({
        name: 'lookup_users',
        arguments: { usernames: ['cleo'], user_ids: [cleo.user_id, bob.user_id] },
      });
      await mcp.close();
      expect(viaMcp.isError).toBeFalsy();
      expect(viaMcp.structuredContent).toEqual({
        users: [
          { user_id: bob.user_id, username: 'bob' },
          { user_id: cleo.user_id, username: 'cleo' },
        ],
      });
      expect(JSON.stringify(viaMcp)).not.toContain('@example.test');
    });

    it('leaves out a user who deactivated their account', async () => {
      const leaver = await newUser('leaver');
      const caller = await newUser('looker');
      const lookup = async () =>
        (await tool(caller, 'lookup_users', { usernames: [`leaver-${n - 1}`], user_ids: [leaver.user_id] }))
          .json.result as { users: UserRef[] };
      expect((await lookup()).users).toEqual([{ user_id: leaver.user_id, username: `leaver-${n - 1}` }]);
      const off = await post(`${t.url}/api/users/me/deactivate`, {}, bearer(leaver.access_token));
      expect(off.status).toBe(200);
      expect((await lookup()).users).toEqual([]);
    });

    it(`allows ${LOOKUPS_PER_MINUTE} calls a minute per user across REST and MCP, then 429 / a tool error`, async () => {
      const busy = await newUser('busy');
      const data = { usernames: ['bob'] };
      for (let i = 0; i < LOOKUPS_PER_MINUTE - 1; i += 1) {
        expect((await tool(busy, 'lookup_users', data)).status).toBe(200);
      }
      // Bad input does not count: it never reaches auth-service.
      expect((await tool(busy, 'lookup_users', { usernames: 'bob' })).status).toBe(400);
      const mcp = await connect(t, busy.access_token);
      const last = await mcp.callTool({ name: 'lookup_users', arguments: data });
      expect(last.isError).toBeFalsy();

      const over = await tool(busy, 'lookup_users', data);
      expect(over.status).toBe(429);
      expect(over.json).toMatchObject({ error: 'resource_exhausted' });
      expect(over.json.message).toMatch(
        new RegExp(
          `lookup_users allows ${LOOKUPS_PER_MINUTE} calls per minute per user; try again in \\d+ s`,
        ),
      );
      const retryAfter = Number(over.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);

      const overMcp = await mcp.callTool({ name: 'lookup_users', arguments: data });
      await mcp.close();
      expect(overMcp.isError).toBe(true);
      expect(textOf(overMcp)).toMatch(/^resource_exhausted: lookup_users allows/);

      // Another user has their own budget; the busy user's other tools are not limited.
      expect((await tool(await newUser('calm'), 'lookup_users', data)).status).toBe(200);
      expect((await tool(busy, 'list_personas', {})).status).toBe(200);
    });
  });

  it('documents both tools, and the 429 of lookup_users, in /openapi.json', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, { post: { responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, unknown> };
    };
    const lookup = doc.paths['/api/tools/lookup_users']!.post;
    const listing = doc.paths['/api/tools/list_personas']!.post;
    expect(Object.keys(lookup.responses)).toContain('429');
    expect(Object.keys(listing.responses)).not.toContain('429');
    expect(JSON.stringify(listing)).toContain('next_cursor');
    // The body is the tool's input, a named schema the operation refers to.
    expect(JSON.stringify(lookup)).toContain('#/components/schemas/LookupUsersInput');
    expect(JSON.stringify(doc.components.schemas.LookupUsersInput)).toContain('user_ids');
  });

  it('answers bad input with 400 naming the field', async () => {
    const caller = await newUser('typo');
    const tooMany = (k: number, f: (i: number) => string) => Array.from({ length: k }, (_, i) => f(i));
    const bad: [string, unknown, string][] = [
      ['list_personas', { query: 7 }, 'data.query'],
      ['list_personas', { query: 'q'.repeat(101) }, 'data.query'],
      ['list_personas', { limit: 0 }, 'data.limit'],
      ['list_personas', { limit: 101 }, 'data.limit'],
      ['list_personas', { limit: 2.5 }, 'data.limit'],
      ['list_personas', { limit: '5' }, 'data.limit'],
      ['list_personas', { cursor: 5 }, 'data.cursor'],
      ['list_personas', { cursor: 'not-a-cursor' }, 'data.cursor'],
      ['list_personas', { search: 'ada' }, 'data.search'],
      ['lookup_users', {}, 'data.usernames'],
      ['lookup_users', { usernames: [], user_ids: [] }, 'data.usernames'],
      ['lookup_users', { usernames: 'bob' }, 'data.usernames'],
      ['lookup_users', { usernames: [7] }, 'data.usernames.0'],
      ['lookup_users', { usernames: [''] }, 'data.usernames.0'],
      ['lookup_users', { usernames: ['x'.repeat(65)] }, 'data.usernames.0'],
      ['lookup_users', { usernames: tooMany(21, (i) => `u${i}`) }, 'data.usernames'],
      ['lookup_users', { user_ids: ['bob'] }, 'data.user_ids.0'],
      ['lookup_users', { user_ids: [ada.user_id, 42] }, 'data.user_ids.1'],
      ['lookup_users', { user_ids: tooMany(101, () => randomUUID()) }, 'data.user_ids'],
      ['lookup_users', { user_ids: [ada.user_id], emails: ['a@b.c'] }, 'data.emails'],
    ];
    for (const [name, data, field] of bad) {
      const res = await tool(caller, name, data);
      expect({ name, data, status: res.status, field: res.json.field }).toEqual({
        name,
        data,
        status: 400,
        field,
      });
    }
    // The same refusal reaches an MCP client as a tool error naming the field.
    const mcp = await connect(t, caller.access_token);
    const viaMcp = await mcp.callTool({ name: 'lookup_users', arguments: { user_ids: ['bob'] } });
    await mcp.close();
    expect(viaMcp.isError).toBe(true);
    expect(textOf(viaMcp)).toMatch(/user_ids/);
  });

  it('answers 401 without a token or with a bad one, and 403 without memories:read', async () => {
    const [h, p, s] = bob.access_token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as object;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: ada.user_id })).toString('base64url')}.${s}`;
    const calls: [string, Record<string, unknown>][] = [
      ['list_personas', {}],
      ['lookup_users', { usernames: ['bob'] }],
    ];
    for (const [name, data] of calls) {
      const anonymous = await post(`${t.url}/api/tools`, { tool: name, data });
      expect({ name, status: anonymous.status }).toEqual({ name, status: 401 });
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
      for (const token of [forged, 'not-a-jwt']) {
        const res = await callTool(t, token, name, data);
        expect({ name, status: res.status }).toEqual({ name, status: 401 });
      }
      expect((await rawMcpCall(t, name, data)).status).toBe(401);
      expect((await rawMcpCall(t, name, data, bearer(forged))).status).toBe(401);

      const res = await tool(writeOnly, name, data);
      expect({ name, status: res.status, error: res.json.error }).toEqual({
        name,
        status: 403,
        error: 'permission_denied',
      });
      // Over MCP the scope gate answers 403 with a step-up challenge before the tool runs.
      const mcp = await connect(t, writeOnly.access_token);
      await expect(mcp.callTool({ name, arguments: data })).rejects.toThrow(/403|insufficient_scope/);
      await mcp.close();
    }
  });
});
