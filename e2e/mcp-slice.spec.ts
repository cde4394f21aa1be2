import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client as Client2025 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Transport2025 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as Client2026,
  StreamableHTTPClientTransport as Transport2026,
} from '@modelcontextprotocol/client';
import {
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

/** The foundation's vertical slice through stock MCP clients of both protocol generations. */
describe('MCP at /mcp', () => {
  let t: TestStack;
  let alice: UserToken;
  let bob: UserToken;

  beforeAll(async () => {
    t = await startTestStack();
    const client = await registerClient(t);
    alice = await userToken(t, client, 'alice');
    bob = await userToken(t, client, 'bob');
  });
  afterAll(() => t?.stop());

  const connect2025 = async (token?: string) => {
    const client = new Client2025({ name: 'e2e-2025', version: '1.0.0' });
    const transport = new Transport2025(new URL(`${t.url}/mcp`), {
      requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
    });
    await client.connect(transport);
    return client;
  };

  const connect2026 = async (token: string) => {
    const client = new Client2026(
      { name: 'e2e-2026', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    const transport = new Transport2026(new URL(`${t.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    return client;
  };

  it('refuses a client without a token with 401 and a WWW-Authenticate challenge', async () => {
    await expect(connect2025()).rejects.toThrow(/bearer access token is required/);
    const res = await fetch(`${t.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer .*resource_metadata="http:\/\/localhost:8001\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
  });

  it('lists the tools with their schemas (2025-11-25 client)', async () => {
    const client = await connect2025(alice.access_token);
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual([
      'add_group_member',
      'create_group',
      'delete_group',
      'delete_memories',
      'delete_memory',
      'export_memories',
      'get_activity',
      'get_memories',
      'get_memory',
      'get_memory_history',
      'get_persona',
      'import_memories',
      'list_groups',
      'list_personas',
      'lookup_users',
      'modify_permissions',
      'query_memory',
      'query_user',
      'remember_conversation',
      'remove_group_member',
      'rename_group',
      'restore_memory',
      'retrieve_memories',
      'submit_memories',
      'submit_memory',
      'update_memory',
      'update_persona',
    ]);
    const submit = tools.find((x) => x.name === 'submit_memory')!;
    expect(submit.inputSchema.required).toEqual(['text', 'permission']);
    expect(submit.outputSchema).toBeDefined();
    await client.close();
  });

  it('stores memories and finds them by meaning (2025-11-25 client)', async () => {
    const client = await connect2025(alice.access_token);
    const stored = await client.callTool({
      name: 'submit_memory',
      arguments: { text: 'My cat Miso loves sleeping on the warm windowsill', permission: 'private' },
    });
    expect(stored.isError).toBeFalsy();
    const memory = stored.structuredContent as Record<string, unknown>;
    expect(memory).toMatchObject({ user_id: alice.user_id, permission: 'private', expiration_date: null });
    expect(memory.id).toMatch(/^[0-9a-f-]{36}$/);
    // The same JSON as a text block, for hosts that ignore structuredContent.
    expect(JSON.parse((stored.content as { text: string }[])[0]!.text)).toEqual(memory);

    await client.callTool({
      name: 'submit_memory',
      arguments: { text: 'The quarterly budget review is due on Friday', permission: 'private' },
    });
    const found = await client.callTool({
      name: 'query_memory',
      arguments: { query: 'where does my kitten like to nap?', limit: 2 },
    });
    const results = (found.structuredContent as { memories: { id: string; similarity: number }[] }).memories;
    expect(results).toHaveLength(2);
    expect(results[0]!.id).toBe(memory.id);
    expect(results[0]!.similarity).toBeGreaterThan(results[1]!.similarity);
    await client.close();
  });

  it('serves a client pinned to the 2026-07-28 revision', async () => {
    const client = await connect2026(bob.access_token);
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name)).toContain('query_memory');
    const stored = await client.callTool({
      name: 'submit_memory',
      arguments: { text: 'Bob plays the cello in a string quartet', permission: 'public' },
    });
    expect(stored.isError).toBeFalsy();
    const mine = await client.callTool({ name: 'retrieve_memories', arguments: {} });
    const memories = (mine.structuredContent as { memories: { text: string; user_id: string }[] }).memories;
    expect(memories).toEqual([
      expect.objectContaining({ text: 'Bob plays the cello in a string quartet', user_id: bob.user_id }),
    ]);
    await client.close();
  });

  it("never shows another user's private memory, but does show public ones", async () => {
    const client = await connect2025(bob.access_token);
    const found = await client.callTool({
      name: 'query_memory',
      arguments: { query: 'cat sleeping on a windowsill', limit: 50 },
    });
    const results = (found.structuredContent as { memories: { user_id: string; permission: string }[] })
      .memories;
    expect(results.some((m) => m.user_id === alice.user_id)).toBe(false);
    expect(results.some((m) => m.user_id === bob.user_id && m.permission === 'public')).toBe(true);
    await client.close();

    const aliceClient = await connect2025(alice.access_token);
    const aliceFound = await aliceClient.callTool({
      name: 'query_memory',
      arguments: { query: 'cello music', limit: 1 },
    });
    const top = (aliceFound.structuredContent as { memories: { user_id: string; text: string }[] })
      .memories[0]!;
    expect(top).toMatchObject({ user_id: bob.user_id, text: 'Bob plays the cello in a string quartet' });
    await aliceClient.close();
  });

  it('answers bad tool input with a tool error naming the field, and writes nothing', async () => {
    const client = await connect2025(alice.access_token);
    const before = await client.callTool({ name: 'retrieve_memories', arguments: {} });
    const count = (before.structuredContent as { memories: unknown[] }).memories.length;

    const bad = await client.callTool({
      name: 'submit_memory',
      arguments: { text: 'x', permission: 'everyone' },
    });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toMatch(/permission/);

    const tooLong = await client.callTool({
      name: 'submit_memory',
      arguments: { text: 'a'.repeat(10_001), permission: 'private' },
    });
    expect(tooLong.isError).toBe(true);
    expect(JSON.stringify(tooLong.content)).toMatch(/text/);

    const after = await client.callTool({ name: 'retrieve_memories', arguments: {} });
    expect((after.structuredContent as { memories: unknown[] }).memories).toHaveLength(count);
    await client.close();
  });

  it('refuses a JSON-RPC batch whose requests share an id, before any of them runs', async () => {
    const post = (body: unknown) =>
      fetch(`${t.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice.access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify(body),
      });
    const create = (id: string | number, name: string) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'create_group', arguments: { name } },
    });
    const groupNames = async () => {
      const client = await connect2025(alice.access_token);
      const r = await client.callTool({ name: 'list_groups', arguments: {} });
      await client.close();
      return (r.structuredContent as { groups: { name: string }[] }).groups.map((g) => g.name);
    };

    const res = await post([create('same', 'batch twin one'), create('same', 'batch twin two')]);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32600);
    expect(body.error.message).toMatch(/"same" is used by more than one request/);
    expect(await groupNames()).not.toEqual(expect.arrayContaining(['batch twin one']));
    expect(await groupNames()).not.toEqual(expect.arrayContaining(['batch twin two']));

    // The same id as a string and as a number are two ids, as JSON-RPC has it.
    const ok = await post([create('7', 'batch one'), create(7, 'batch two')]);
    expect(ok.status).toBe(200);
    expect(await groupNames()).toEqual(expect.arrayContaining(['batch one', 'batch two']));
  });

  it('serves memories as resources with the same permission rule, and offers prompts', async () => {
    const alicePrivate = await (async () => {
      const c = await connect2025(alice.access_token);
      const r = await c.callTool({
        name: 'submit_memory',
        arguments: { text: 'Alice hides chocolate in the piano', permission: 'private' },
      });
      await c.close();
      return (r.structuredContent as { id: string }).id;
    })();

    const client = await connect2025(alice.access_token);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((r) => r.uriTemplate).sort()).toEqual([
      'memories://{memory_id}',
      'users://{user_id}/memories',
    ]);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(`memories://${alicePrivate}`);
    const own = await client.readResource({ uri: `memories://${alicePrivate}` });
    expect(JSON.parse((own.contents[0] as { text: string }).text)).toMatchObject({
      id: alicePrivate,
      text: 'Alice hides chocolate in the piano',
    });
    const bobs = await client.readResource({ uri: `users://${bob.user_id}/memories` });
    const listed = JSON.parse((bobs.contents[0] as { text: string }).text) as {
      memories: { permission: string }[];
    };
    expect(listed.memories.length).toBeGreaterThan(0);
    expect(listed.memories.every((m) => m.permission === 'public')).toBe(true);
    await client.close();

    const intruder = await connect2026(bob.access_token);
    await expect(intruder.readResource({ uri: `memories://${alicePrivate}` })).rejects.toThrow();
    const aliceSeenByBob = await intruder.readResource({ uri: `users://${alice.user_id}/memories` });
    expect((aliceSeenByBob.contents[0] as { text: string }).text).not.toContain('chocolate');
    const { prompts } = await intruder.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(['ask_persona', 'recall', 'remember']);
    const recall = await intruder.getPrompt({ name: 'recall', arguments: { topic: 'music' } });
    expect(JSON.stringify(recall.messages)).toContain('query_memory');
    const ask = await intruder.getPrompt({
      name: 'ask_persona',
      arguments: { user_id: alice.user_id, question: 'favourite music?' },
    });
    expect(JSON.stringify(ask.messages)).toContain(`query_user tool with user_id ${alice.user_id}`);
    await intruder.close();
  });
});
