import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as Client2026,
  StreamableHTTPClientTransport as Transport2026,
} from '@modelcontextprotocol/client';
import {
  callTool,
  post,
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
  expiration_date: string | null;
};
type ItemError = { index: number; id?: string; field?: string; code: string; message: string };

/** Batch submit/delete, export/import and the query filters, over REST and through a stock MCP client. */
describe('memory tools: batches, export/import, query filters', () => {
  let t: TestStack;
  let owner: UserToken;
  let other: UserToken;
  let readOnly: UserToken;
  let writeOnly: UserToken;
  const tool = async (who: UserToken, name: string, data: unknown) =>
    callTool(t, who.access_token, name, data);

  const connect = async (token: string) => {
    const client = new Client({ name: 'e2e-batch', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    // Listing first caches the output schemas, as hosts do, so results are validated against them.
    await client.listTools();
    return client;
  };

  beforeAll(async () => {
    t = await startTestStack();
    const client = await registerClient(t);
    owner = await userToken(t, client, 'bea');
    other = await userToken(t, client, 'otto');
    readOnly = await userToken(t, await registerClient(t, ['memories:read']), 'rita');
    writeOnly = await userToken(t, await registerClient(t, ['memories:write']), 'walt');
  });
  afterAll(() => t?.stop());

  it('submits a batch in input order and deletes it as a batch (REST)', async () => {
    const texts = [
      'Batch alpha: the boiler was serviced in May',
      'Batch beta: passport renewal due next spring',
      'Batch gamma: Lena likes jasmine tea',
    ];
    const res = await tool(owner, 'submit_memories', {
      memories: texts.map((text, i) => ({
        text,
        permission: i === 1 ? 'private' : 'public',
        tags: ['batch'],
      })),
    });
    expect(res.status).toBe(200);
    const memories = res.json.result.memories as Memory[];
    expect(memories.map((m) => m.text)).toEqual(texts);
    expect(memories.map((m) => m.permission)).toEqual(['public', 'private', 'public']);
    expect(memories.every((m) => m.user_id === owner.user_id)).toBe(true);

    const found = await tool(owner, 'query_memory', { query: 'when is my passport due?', limit: 1 });
    expect(found.json.result.memories[0].id).toBe(memories[1]!.id);

    const del = await tool(owner, 'delete_memories', { memory_ids: memories.map((m) => m.id) });
    expect(del.status).toBe(200);
    expect(del.json.result).toEqual({ deleted_ids: memories.map((m) => m.id) });
    const left = await tool(owner, 'get_memories', { tags: ['batch'] });
    expect(left.json.result.memories).toEqual([]);
  });

  it('refuses a batch with bad items as a whole, naming each (REST)', async () => {
    const before = (await tool(owner, 'retrieve_memories', {})).json.result.memories.length;
    const res = await tool(owner, 'submit_memories', {
      memories: [
        { text: 'A perfectly fine memory', permission: 'private' },
        { text: 'x'.repeat(10_001), permission: 'private' },
        { text: 'Expired before it was born', permission: 'public', expiration_date: '2001-01-01T00:00:00Z' },
        { text: 'Shared with nobody', permission: 'shared' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      error: 'invalid_argument',
      message: '3 of 4 memories are invalid; nothing was stored',
    });
    const errors = res.json.errors as ItemError[];
    expect(errors.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(errors.map((e) => e.field)).toEqual([
      expect.stringMatching(/^data\.memories\[1\]\.text/),
      expect.stringMatching(/^data\.memories\[2\]\.expiration_date/),
      expect.stringMatching(/^data\.memories\[3\]\.shared_with/),
    ]);
    expect(errors.every((e) => e.code === 'invalid_argument' && e.message)).toBe(true);
    expect((await tool(owner, 'retrieve_memories', {})).json.result.memories).toHaveLength(before);
  });

  it("deletes nothing when one id is someone else's, unknown or repeated (REST)", async () => {
    const mine = (
      await tool(owner, 'submit_memory', {
        text: 'Keep me: the wifi password is on the fridge',
        permission: 'public',
      })
    ).json.result as Memory;
    const theirs = (
      await tool(other, 'submit_memory', { text: 'Otto parks on level 3', permission: 'public' })
    ).json.result as Memory;
    const unknown = randomUUID();
    const res = await tool(owner, 'delete_memories', { memory_ids: [mine.id, theirs.id, unknown] });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe('2 of 3 memories could not be deleted; nothing was deleted');
    expect(res.json.errors).toEqual([
      expect.objectContaining({
        index: 1,
        id: theirs.id,
        field: 'data.memory_ids[1]',
        code: 'permission_denied',
      }),
      expect.objectContaining({ index: 2, id: unknown, field: 'data.memory_ids[2]', code: 'not_found' }),
    ]);
    const twice = await tool(owner, 'delete_memories', { memory_ids: [mine.id, mine.id] });
    expect(twice.status).toBe(400);
    expect(twice.json.errors).toEqual([
      expect.objectContaining({ index: 1, id: mine.id, code: 'invalid_argument' }),
    ]);
    expect(
      (await tool(owner, 'get_memories', { user_id: owner.user_id })).json.result.memories.map(
        (m: Memory) => m.id,
      ),
    ).toContain(mine.id);
    expect(
      (await tool(other, 'retrieve_memories', {})).json.result.memories.map((m: Memory) => m.id),
    ).toContain(theirs.id);
  });

  it('runs the batch tools and their per-item errors through an MCP client', async () => {
    const client = await connect(owner.access_token);
    const ok = await client.callTool({
      name: 'submit_memories',
      arguments: {
        memories: [
          { text: 'MCP batch one: piano tuning in June', permission: 'private' },
          { text: 'MCP batch two: call grandma on Sunday', permission: 'private' },
        ],
      },
    });
    expect(ok.isError).toBeFalsy();
    const stored = (ok.structuredContent as { memories: Memory[] }).memories;
    expect(stored.map((m) => m.text)).toEqual([
      'MCP batch one: piano tuning in June',
      'MCP batch two: call grandma on Sunday',
    ]);

    const bad = await client.callTool({
      name: 'submit_memories',
      arguments: {
        memories: [
          { text: 'fine', permission: 'private' },
          { text: 'y'.repeat(10_001), permission: 'private' },
        ],
      },
    });
    expect(bad.isError).toBe(true);
    const body = JSON.parse((bad.content as { text: string }[])[0]!.text);
    expect(body).toMatchObject({
      error: 'invalid_argument',
      message: '1 of 2 memories are invalid; nothing was stored',
      errors: [{ index: 1, code: 'invalid_argument', field: expect.stringMatching(/^memories\[1\]\.text/) }],
    });

    const badDelete = await client.callTool({
      name: 'delete_memories',
      arguments: { memory_ids: [stored[0]!.id, randomUUID()] },
    });
    expect(badDelete.isError).toBe(true);
    expect(JSON.parse((badDelete.content as { text: string }[])[0]!.text).errors).toEqual([
      expect.objectContaining({ index: 1, code: 'not_found' }),
    ]);
    const del = await client.callTool({
      name: 'delete_memories',
      arguments: { memory_ids: stored.map((m) => m.id) },
    });
    expect(del.structuredContent).toEqual({ deleted_ids: stored.map((m) => m.id) });
    await client.close();
  });

  it('filters searches by user, permission, tags and similarity, and ranks hybrid on request', async () => {
    await tool(other, 'submit_memories', {
      memories: [
        { text: 'Invoice INV-7731 from the plumber is unpaid', permission: 'public', tags: ['bills'] },
        { text: 'The garden hose leaks near the tap', permission: 'public', tags: ['garden'] },
      ],
    });
    const byTag = await tool(owner, 'query_memory', {
      query: 'plumbing problems',
      user_id: other.user_id,
      tags: ['garden'],
    });
    expect(byTag.status).toBe(200);
    expect(byTag.json.result.memories.map((m: Memory) => m.text)).toEqual([
      'The garden hose leaks near the tap',
    ]);
    const priv = await tool(owner, 'query_memory', {
      query: 'plumbing',
      user_id: other.user_id,
      permission: 'private',
    });
    expect(priv.json.result.memories).toEqual([]);
    const strict = await tool(owner, 'query_memory', { query: 'plumbing', min_similarity: 0.999 });
    expect(strict.json.result.memories).toEqual([]);
    const hybrid = await tool(owner, 'query_memory', {
      query: 'INV-7731',
      user_id: other.user_id,
      hybrid: true,
      limit: 1,
    });
    expect(hybrid.json.result.memories[0].text).toMatch(/INV-7731/);

    const client = await connect(owner.access_token);
    const viaMcp = await client.callTool({
      name: 'query_memory',
      arguments: { query: 'INV-7731', hybrid: true, tags: ['bills'], min_similarity: -1 },
    });
    expect((viaMcp.structuredContent as { memories: Memory[] }).memories.map((m) => m.text)).toEqual([
      'Invoice INV-7731 from the plumber is unpaid',
    ]);
    await client.close();
  });

  it('answers bad input with 400 naming the field, a missing token with 401, a wrong scope with 403', async () => {
    const uuid = randomUUID();
    const bad: [string, unknown, string][] = [
      ['submit_memories', { memories: [] }, 'data.memories'],
      ['submit_memories', { memories: 'all of them' }, 'data.memories'],
      [
        'submit_memories',
        { memories: Array.from({ length: 501 }, () => ({ text: 'x', permission: 'private' })) },
        'data.memories',
      ],
      [
        'submit_memories',
        { memories: [{ text: 'x', permission: 'everyone' }] },
        'data.memories.0.permission',
      ],
      [
        'submit_memories',
        { memories: [{ text: 'x', permission: 'shared', shared_with: { groups: ['nope'] } }] },
        'data.memories.0.shared_with.groups.0',
      ],
      ['delete_memories', { memory_ids: [] }, 'data.memory_ids'],
      ['delete_memories', { memory_ids: ['nope'] }, 'data.memory_ids.0'],
      ['delete_memories', { memory_ids: Array.from({ length: 501 }, () => uuid) }, 'data.memory_ids'],
      ['export_memories', { format: 'xml' }, 'data.format'],
      ['export_memories', {}, 'data.format'],
      ['import_memories', { format: 'json', data: 42 }, 'data.data'],
      ['import_memories', { format: 'json', data: '' }, 'data.data'],
      ['import_memories', { format: 'yaml', data: '[]' }, 'data.format'],
      ['query_memory', { query: 'x', min_similarity: 1.5 }, 'data.min_similarity'],
      ['query_memory', { query: 'x', hybrid: 'yes' }, 'data.hybrid'],
      ['query_memory', { query: 'x', user_id: 'bea' }, 'data.user_id'],
      ['query_memory', { query: 'x', permission: 'secret' }, 'data.permission'],
      [
        'submit_memory',
        { text: 'x', permission: 'shared', shared_with: { groups: [7] } },
        'data.shared_with.groups.0',
      ],
      [
        'modify_permissions',
        { memory_id: uuid, permission: 'shared', shared_with: { teams: [] } },
        'data.shared_with.teams',
      ],
    ];
    for (const [name, data, field] of bad) {
      const res = await tool(owner, name, data);
      expect({ name, status: res.status, field: res.json.field }).toEqual({ name, status: 400, field });
    }

    const calls: [string, unknown, UserToken][] = [
      ['submit_memories', { memories: [{ text: 'x', permission: 'private' }] }, readOnly],
      ['delete_memories', { memory_ids: [uuid] }, readOnly],
      ['import_memories', { format: 'json', data: '[]' }, readOnly],
      ['export_memories', { format: 'json' }, writeOnly],
    ];
    for (const [name, data, wrongScope] of calls) {
      expect((await post(`${t.url}/api/tools`, { tool: name, data })).status).toBe(401);
      const res = await tool(wrongScope, name, data);
      expect({ name, status: res.status, error: res.json.error }).toEqual({
        name,
        status: 403,
        error: 'permission_denied',
      });
    }
    // Past the import cap (8 MiB of text) but within the body an import may need: 400 naming the field.
    const tooLong = await tool(owner, 'import_memories', {
      format: 'json',
      data: 'x'.repeat(8 * 1024 * 1024 + 1),
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.field).toBe('data.data');
    // Past what any import call can need (8 MiB JSON-escaped, ~48.1 MiB): 413 saying so.
    const oversized = await tool(owner, 'import_memories', {
      format: 'json',
      data: 'x'.repeat(49 * 1024 * 1024),
    });
    expect(oversized.status).toBe(413);
    expect(oversized.json).toMatchObject({ error: 'payload_too_large', field: 'body' });
    expect(oversized.json.message).toMatch(
      /larger than 48\.1 MiB, the most an import_memories call can need/,
    );
  });

  it('imports a file larger than GATEWAY_BODY_LIMIT (2 MiB) over REST and MCP; other tools still get 413', async () => {
    // ~2.2 MB of ndjson: 220 long memories (four texts, so the embedder works on four).
    const texts = ['alpha', 'bravo', 'charlie', 'delta'].map((w) => `${w} ${'big import '.repeat(900)}`);
    const data = Array.from({ length: 220 }, (_, i) =>
      JSON.stringify({ text: texts[i % 4], permission: 'private', tags: ['big'] }),
    ).join('\n');
    expect(
      Buffer.byteLength(JSON.stringify({ tool: 'import_memories', data: { format: 'ndjson', data } })),
    ).toBeGreaterThan(2 * 1024 * 1024);

    const restUser = await userToken(t, await registerClient(t), 'bigrest');
    const rest = await tool(restUser, 'import_memories', { format: 'ndjson', data });
    expect(rest.status).toBe(200);
    expect(rest.json.result).toEqual({
      imported: 220,
      total: 220,
      errors: [],
      import_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });

    const mcpUser = await userToken(t, await registerClient(t), 'bigmcp');
    const client = await connect(mcpUser.access_token);
    const viaMcp = await client.callTool({ name: 'import_memories', arguments: { format: 'ndjson', data } });
    expect(viaMcp.isError).toBeFalsy();
    expect(viaMcp.structuredContent).toMatchObject({ imported: 220, total: 220, errors: [] });
    // Any other call past GATEWAY_BODY_LIMIT is refused before it reaches a service, over MCP too.
    await expect(
      client.callTool({
        name: 'submit_memories',
        arguments: { memories: [{ text: data, permission: 'private' }] },
      }),
    ).rejects.toThrow(/413|larger than 2 MiB \(GATEWAY_BODY_LIMIT\)/);
    await client.close();
    const rejected = await tool(restUser, 'submit_memory', { text: data, permission: 'private' });
    expect(rejected.status).toBe(413);
    expect(rejected.json.message).toBe(
      'the body is larger than 2 MiB (GATEWAY_BODY_LIMIT); only an import_memories call may be larger, up to 48.1 MiB',
    );
    // A large body needs a token before the gateway reads it.
    expect(
      (await post(`${t.url}/api/tools`, { tool: 'import_memories', data: { format: 'ndjson', data } }))
        .status,
    ).toBe(401);
  });

  describe('export and import', () => {
    let exported: Record<string, { count: number; data: string }> = {};

    it('exports every own memory in each format (REST)', async () => {
      const soon = new Date(Date.now() + 86_400_000).toISOString();
      await tool(owner, 'submit_memories', {
        memories: [
          {
            text: 'Export me: "quotes", commas, and\na second line',
            permission: 'private',
            tags: ['export', 'tricky'],
          },
          {
            text: 'Export me too: the cabin code is 4417',
            permission: 'public',
            tags: ['export'],
            expiration_date: soon,
          },
          {
            text: 'Export me three: shared with Otto',
            permission: 'shared',
            shared_with: { users: [other.user_id] },
          },
        ],
      });
      const total = (await tool(owner, 'retrieve_memories', {})).json.result.memories.length;
      exported = {};
      for (const format of ['json', 'ndjson', 'csv', 'markdown']) {
        const res = await tool(owner, 'export_memories', { format });
        expect(res.status).toBe(200);
        expect(res.json.result).toMatchObject({ format, count: total });
        expect(res.json.result.data).toContain('the cabin code is 4417');
        exported[format] = res.json.result;
      }
      expect(exported.json!.data).not.toContain('Otto parks on level 3');
    });

    it('imports an export back without loss, with progress over MCP', async () => {
      const fresh = await userToken(t, await registerClient(t), 'ivy');
      const client = await connect(fresh.access_token);
      const progress: { progress: number; total?: number }[] = [];
      const args = { format: 'ndjson', data: exported.ndjson!.data, import_id: 'ivy-restore-1' };
      const res = await client.callTool({ name: 'import_memories', arguments: args }, undefined, {
        onprogress: (p) => progress.push(p),
      });
      expect(res.isError).toBeFalsy();
      const done = {
        imported: exported.ndjson!.count,
        total: exported.ndjson!.count,
        errors: [],
        import_id: 'ivy-restore-1',
      };
      expect(res.structuredContent).toEqual(done);
      // The same import again (a client retrying after a lost reply) writes nothing more.
      const again = await client.callTool({ name: 'import_memories', arguments: args });
      expect(again.structuredContent).toEqual(done);
      const stored = await tool(fresh, 'retrieve_memories', { limit: 100 });
      expect(stored.json.result.memories).toHaveLength(exported.ndjson!.count);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)).toMatchObject({
        progress: exported.ndjson!.count,
        total: exported.ndjson!.count,
      });
      const back = await client.callTool({ name: 'export_memories', arguments: { format: 'csv' } });
      expect(back.structuredContent).toMatchObject({ format: 'csv', count: exported.ndjson!.count });
      await client.close();

      const mine = (await tool(owner, 'retrieve_memories', {})).json.result.memories as Memory[];
      const theirs = (await tool(fresh, 'retrieve_memories', {})).json.result.memories as Memory[];
      const shape = (m: Memory) => ({
        text: m.text,
        permission: m.permission,
        tags: [...m.tags].sort(),
        expiration_date: m.expiration_date,
      });
      const key = (a: { text: string }, b: { text: string }) => a.text.localeCompare(b.text);
      expect(theirs.map(shape).sort(key)).toEqual(mine.map(shape).sort(key));
      expect(theirs.every((m) => m.user_id === fresh.user_id)).toBe(true);
    });

    it('sends import progress to a client pinned to the 2026-07-28 revision too', async () => {
      const fresh = await userToken(t, await registerClient(t), 'ines');
      const client = new Client2026(
        { name: 'e2e-2026', version: '1.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      await client.connect(
        new Transport2026(new URL(`${t.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${fresh.access_token}` } },
        }),
      );
      const progress: { progress: number; total?: number }[] = [];
      const res = await client.callTool(
        { name: 'import_memories', arguments: { format: 'json', data: exported.json!.data } },
        { onprogress: (p) => progress.push(p) },
      );
      expect(res.structuredContent).toMatchObject({ imported: exported.json!.count, errors: [] });
      expect(progress.at(-1)).toMatchObject({ progress: exported.json!.count, total: exported.json!.count });
      await client.close();
    });

    it('round-trips json, csv and markdown through the tools (REST)', async () => {
      for (const format of ['json', 'csv', 'markdown']) {
        const fresh = await userToken(t, await registerClient(t), `imp-${format}`);
        const res = await tool(fresh, 'import_memories', { format, data: exported[format]!.data });
        expect({ format, status: res.status }).toEqual({ format, status: 200 });
        expect(res.json.result).toMatchObject({ imported: exported[format]!.count, errors: [] });
        const back = await tool(fresh, 'export_memories', { format: 'json' });
        expect(back.json.result.count).toBe(exported[format]!.count);
      }
    });

    it('fails an import in which nothing is valid, naming the items', async () => {
      const before = (await tool(owner, 'retrieve_memories', {})).json.result.memories.length;
      const res = await tool(owner, 'import_memories', {
        format: 'ndjson',
        data: '{"text":"","permission":"private"}\n{"text":"hi","permission":"loud"}\n',
      });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        error: 'invalid_argument',
        message: '2 of 2 memories could not be imported; nothing was imported',
        // Item fields name the file's fields, not the tool's input.
        errors: [
          { index: 0, field: 'text', code: 'invalid_argument' },
          { index: 1, field: 'permission', code: 'invalid_argument' },
        ],
      });
      expect((await tool(owner, 'retrieve_memories', {})).json.result.memories).toHaveLength(before);
      const garbage = await tool(owner, 'import_memories', { format: 'json', data: 'not json at all' });
      expect(garbage.status).toBe(400);
    });
  });
});
