import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  callTool,
  queryDb,
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
  shared_with: { users: string[] };
};

/** get_memory over REST and MCP: one memory by id under the visibility rule, without an existence leak. */
describe('get_memory', () => {
  let t: TestStack;
  let owner: UserToken;
  let listed: UserToken;
  let stranger: UserToken;
  let writeOnly: UserToken;
  let priv: Memory;
  let pub: Memory;
  let shared: Memory;
  const tool = async (who: UserToken, name: string, data: unknown) =>
    callTool(t, who.access_token, name, data);
  const mcp = async (who: UserToken, args: Record<string, unknown>) => {
    const client = new Client({ name: 'e2e-get-memory', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${who.access_token}` } },
      }),
    );
    try {
      return await client.callTool({ name: 'get_memory', arguments: args });
    } finally {
      await client.close();
    }
  };
  const submit = async (data: object) => (await tool(owner, 'submit_memory', data)).json.result as Memory;

  beforeAll(async () => {
    t = await startTestStack();
    const client = await registerClient(t);
    owner = await userToken(t, client, 'olivia');
    listed = await userToken(t, client, 'lars');
    stranger = await userToken(t, client, 'sven');
    writeOnly = await userToken(t, await registerClient(t, ['memories:write']), 'wilma');
    priv = await submit({ text: 'My locker combination is 31-7-22', permission: 'private' });
    pub = await submit({ text: 'The bakery on Elm Street opens at six', permission: 'public' });
    shared = await submit({
      text: 'Our wifi password is on the fridge',
      permission: 'shared',
      shared_with: { users: [listed.user_id] },
    });
  });
  afterAll(() => t?.stop());

  it('returns what the caller may see, over REST and MCP alike', async () => {
    const cases: [UserToken, Memory, boolean][] = [
      [owner, priv, true],
      [owner, pub, true],
      [owner, shared, true],
      [stranger, priv, false],
      [stranger, pub, true],
      [stranger, shared, false],
      [listed, priv, false],
      [listed, pub, true],
      [listed, shared, true],
    ];
    for (const [who, m, visible] of cases) {
      const rest = await tool(who, 'get_memory', { memory_id: m.id });
      const viaMcp = await mcp(who, { memory_id: m.id });
      const label = `${who.user_id === owner.user_id ? 'owner' : who === listed ? 'listed' : 'stranger'} × ${m.permission}`;
      if (visible) {
        expect({ label, status: rest.status }).toEqual({ label, status: 200 });
        expect(rest.json.result).toMatchObject({ id: m.id, user_id: owner.user_id, text: m.text });
        expect(viaMcp.isError).toBeFalsy();
        expect(viaMcp.structuredContent).toEqual(rest.json.result);
      } else {
        expect({ label, status: rest.status, error: rest.json.error }).toEqual({
          label,
          status: 404,
          error: 'not_found',
        });
        expect(viaMcp.isError).toBe(true);
        expect(JSON.stringify(viaMcp.content)).toMatch(/not_found/);
      }
    }
    // Only the owner learns who else may read it.
    expect((await tool(owner, 'get_memory', { memory_id: shared.id })).json.result.shared_with.users).toEqual(
      [listed.user_id],
    );
    expect(
      (await tool(listed, 'get_memory', { memory_id: shared.id })).json.result.shared_with.users,
    ).toEqual([]);
  });

  it('answers a memory one may not see exactly like one that does not exist', async () => {
    const hidden = await tool(stranger, 'get_memory', { memory_id: priv.id });
    const unknown = await tool(stranger, 'get_memory', { memory_id: randomUUID() });
    const shape = (r: typeof hidden) => ({
      status: r.status,
      error: r.json.error,
      message: String(r.json.message).replace(/[0-9a-f-]{36}/g, 'ID'),
      field: r.json.field,
    });
    expect(shape(hidden)).toEqual(shape(unknown));
    expect(hidden.status).toBe(404);
    // Expired memories are hidden too, even from their owner.
    const gone = await submit({
      text: 'Parking ticket valid until noon',
      permission: 'public',
      expiration_date: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect((await tool(owner, 'get_memory', { memory_id: gone.id })).status).toBe(200);
    // The hour passes in the database rather than on the clock: the row is back-dated.
    await queryDb(
      t,
      'memory',
      (schema) => `UPDATE ${schema}.memories SET expiration_date = now() - interval '1 second' WHERE id = $1`,
      [gone.id],
    );
    expect(shape(await tool(owner, 'get_memory', { memory_id: gone.id }))).toEqual(shape(unknown));
  });

  it('names the field of bad input (400), refuses a missing token (401) and a token without memories:read (403)', async () => {
    for (const data of [
      { memory_id: 'not-a-uuid' },
      { memory_id: 42 },
      {},
      { memory_id: pub.id, extra: true },
    ]) {
      const res = await tool(owner, 'get_memory', data);
      const field = 'extra' in data ? 'data.extra' : 'data.memory_id';
      expect({ data, status: res.status, field: res.json.field }).toEqual({ data, status: 400, field });
    }
    const bad = await mcp(owner, { memory_id: 'not-a-uuid' });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toMatch(/memory_id/);

    const anonymous = await fetch(`${t.url}/api/tools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'get_memory', data: { memory_id: pub.id } }),
    });
    expect(anonymous.status).toBe(401);
    expect((await tool(writeOnly, 'get_memory', { memory_id: pub.id })).status).toBe(403);
    await expect(mcp(writeOnly, { memory_id: pub.id })).rejects.toThrow(/403|insufficient_scope/);
  });

  it('is listed over MCP as read-only and described in the OpenAPI document', async () => {
    const client = new Client({ name: 'e2e-get-memory', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${owner.access_token}` } },
      }),
    );
    const { tools } = await client.listTools();
    await client.close();
    const getMemory = tools.find((x) => x.name === 'get_memory')!;
    expect(getMemory.annotations?.readOnlyHint).toBe(true);
    expect(getMemory.inputSchema.required).toEqual(['memory_id']);
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(doc.paths).toHaveProperty(['/api/tools/get_memory']);
  });
});
