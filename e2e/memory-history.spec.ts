import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  bearer,
  post,
  queryDb,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

type Memory = { id: string; text: string; permission: string; tags: string[]; updated_at: string };
type Version = {
  version: number;
  text: string;
  permission: string;
  shared_with: { users: string[]; groups: string[] };
  tags: string[];
  changed_by: string;
  changed_at: string;
  change: string;
  restored_version: number | null;
};
type History = {
  memory_id: string;
  current_version: number;
  versions: Version[];
  next_cursor: string | null;
};

/**
 * get_memory_history and restore_memory through the gateway (REST `POST /api/tools/{tool}` and MCP)
 * against the real services: the owner's view, nobody else's, input checks, and export_memories'
 * include_history.
 */
describe('memory history tools', () => {
  let t: TestStack;
  let owner: UserToken;
  let friend: UserToken;
  let stranger: UserToken;
  let readOnly: UserToken;
  let writeOnly: UserToken;
  const tool = (who: UserToken, name: string, data: unknown) =>
    post(`${t.url}/api/tools/${name}`, data, bearer(who.access_token));
  const mcp = async (who: UserToken, name: string, args: Record<string, unknown>) => {
    const client = new Client({ name: 'e2e-history', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${who.access_token}` } },
      }),
    );
    try {
      return await client.callTool({ name, arguments: args });
    } finally {
      await client.close();
    }
  };
  const ok = async (who: UserToken, name: string, data: unknown) => {
    const res = await tool(who, name, data);
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.text}`);
    return res.json.result;
  };

  /** A memory at version 4: written, edited, shared with the friend, made public. */
  async function edited(who = owner) {
    const m = (await ok(who, 'submit_memory', {
      text: 'Draft: the door code is 4711',
      permission: 'private',
      tags: ['home'],
    })) as Memory;
    await ok(who, 'update_memory', { memory_id: m.id, text: 'The door code is 0815' });
    await ok(who, 'modify_permissions', {
      memory_id: m.id,
      permission: 'shared',
      shared_with: { users: [friend.user_id] },
    });
    await ok(who, 'modify_permissions', { memory_id: m.id, permission: 'public' });
    return m;
  }

  beforeAll(async () => {
    t = await startTestStack();
    const client = await registerClient(t);
    owner = await userToken(t, client, 'hilde');
    friend = await userToken(t, client, 'hanno');
    stranger = await userToken(t, client, 'hector');
    // Direct connect mints only for users the client created: the scope cases are users of their own.
    readOnly = await userToken(t, await registerClient(t, ['memories:read']), 'rita');
    writeOnly = await userToken(t, await registerClient(t, ['memories:write']), 'willy');
  });
  afterAll(() => t?.stop());

  it('lists earlier versions newest first, a page at a time, the same over REST and MCP', async () => {
    const m = await edited();
    const all = (await ok(owner, 'get_memory_history', { memory_id: m.id })) as History;
    expect(all).toMatchObject({ memory_id: m.id, current_version: 4, next_cursor: null });
    expect(all.versions.map((v) => [v.version, v.text, v.permission, v.change])).toEqual([
      [3, 'The door code is 0815', 'shared', 'permissions'],
      [2, 'The door code is 0815', 'private', 'permissions'],
      [1, 'Draft: the door code is 4711', 'private', 'update'],
    ]);
    expect(all.versions[0]!.shared_with).toEqual({ users: [friend.user_id], groups: [] });
    expect(all.versions.every((v) => v.changed_by === owner.user_id && v.restored_version === null)).toBe(
      true,
    );

    const viaMcp = await mcp(owner, 'get_memory_history', { memory_id: m.id });
    expect(viaMcp.isError).toBeFalsy();
    expect(viaMcp.structuredContent).toEqual(all);

    const first = (await ok(owner, 'get_memory_history', { memory_id: m.id, limit: 2 })) as History;
    expect(first.versions.map((v) => v.version)).toEqual([3, 2]);
    const second = (await ok(owner, 'get_memory_history', {
      memory_id: m.id,
      limit: 2,
      cursor: first.next_cursor,
    })) as History;
    expect([second.versions.map((v) => v.version), second.next_cursor]).toEqual([[1], null]);
    // The older envelope reaches the same tool.
    const envelope = await post(
      `${t.url}/api/tools`,
      { tool: 'get_memory_history', data: { memory_id: m.id } },
      bearer(owner.access_token),
    );
    expect(envelope.json.result).toEqual(all);
  });

  it('restores a version as a new version, which can be undone', async () => {
    const m = await edited();
    const current = (await ok(owner, 'get_memory', { memory_id: m.id })) as Memory;
    const restored = (await ok(owner, 'restore_memory', {
      memory_id: m.id,
      version: 1,
      expected_updated_at: current.updated_at,
    })) as Memory;
    expect(restored).toMatchObject({ id: m.id, text: 'Draft: the door code is 4711', permission: 'private' });
    // Private again: the friend and everyone else lost it with version 1.
    expect((await tool(friend, 'get_memory', { memory_id: m.id })).status).toBe(404);
    const history = (await ok(owner, 'get_memory_history', { memory_id: m.id })) as History;
    expect(history.current_version).toBe(5);
    expect(history.versions[0]).toMatchObject({
      version: 4,
      text: 'The door code is 0815',
      permission: 'public',
      change: 'restore',
      restored_version: 1,
      changed_at: restored.updated_at,
    });
    // A stale expected_updated_at is a conflict; over MCP the restore works like over REST.
    const stale = await tool(owner, 'restore_memory', {
      memory_id: m.id,
      version: 4,
      expected_updated_at: current.updated_at,
    });
    expect([stale.status, stale.json.error, stale.json.field]).toEqual([
      409,
      'conflict',
      'expected_updated_at',
    ]);
    const undo = await mcp(owner, 'restore_memory', { memory_id: m.id, version: 4 });
    expect(undo.isError).toBeFalsy();
    expect(undo.structuredContent).toMatchObject({ text: 'The door code is 0815', permission: 'public' });
  });

  it('never shows the history to anyone but the owner: not to the friend it is shared with, nor on a public memory', async () => {
    const shared = (await ok(owner, 'submit_memory', {
      text: 'Secret first wording',
      permission: 'private',
    })) as Memory;
    await ok(owner, 'update_memory', { memory_id: shared.id, text: 'Fit to share' });
    await ok(owner, 'modify_permissions', {
      memory_id: shared.id,
      permission: 'shared',
      shared_with: { users: [friend.user_id] },
    });
    const pub = await edited();
    const unknown = await tool(stranger, 'get_memory_history', { memory_id: randomUUID() });
    const shape = (r: typeof unknown) => ({
      status: r.status,
      error: r.json.error,
      message: String(r.json.message).replace(/[0-9a-f-]{36}/g, 'ID'),
    });
    expect(shape(unknown)).toMatchObject({ status: 404, error: 'not_found' });
    expect(shape(await tool(stranger, 'get_memory_history', { memory_id: shared.id }))).toEqual(
      shape(unknown),
    );
    expect(shape(await tool(stranger, 'restore_memory', { memory_id: shared.id, version: 1 }))).toMatchObject(
      {
        status: 404,
      },
    );
    for (const [who, id] of [
      [friend, shared.id],
      [stranger, pub.id],
      [friend, pub.id],
    ] as const) {
      for (const [name, data] of [
        ['get_memory_history', { memory_id: id }],
        ['restore_memory', { memory_id: id, version: 1 }],
      ] as const) {
        const res = await tool(who, name, data);
        expect({ name, status: res.status, error: res.json.error }).toEqual({
          name,
          status: 403,
          error: 'permission_denied',
        });
        expect(res.text).not.toMatch(/Secret first|Draft/);
      }
      const viaMcp = await mcp(who, 'get_memory_history', { memory_id: id });
      expect(viaMcp.isError).toBe(true);
      expect(JSON.stringify(viaMcp.content)).not.toMatch(/Secret first|Draft/);
    }
    // They see the current text only, and their exports carry no one else's memories or history.
    expect(((await ok(friend, 'get_memory', { memory_id: shared.id })) as Memory).text).toBe('Fit to share');
    const theirs = (await ok(friend, 'export_memories', { format: 'json', include_history: true })) as {
      data: string;
    };
    expect(theirs.data).not.toMatch(/Secret first|Draft/);
  });

  it('names the bad field (400), refuses a missing token (401) and the wrong scope (403), and a missing version (404)', async () => {
    const m = await edited();
    const cases: [string, Record<string, unknown>, string][] = [
      ['get_memory_history', { memory_id: 'not-a-uuid' }, 'memory_id'],
      ['get_memory_history', { memory_id: 42 }, 'memory_id'],
      ['get_memory_history', {}, 'memory_id'],
      ['get_memory_history', { memory_id: m.id, limit: 0 }, 'limit'],
      ['get_memory_history', { memory_id: m.id, limit: 101 }, 'limit'],
      ['get_memory_history', { memory_id: m.id, limit: '5' }, 'limit'],
      ['get_memory_history', { memory_id: m.id, cursor: 7 }, 'cursor'],
      ['get_memory_history', { memory_id: m.id, cursor: 'x'.repeat(10_000) }, 'cursor'],
      ['get_memory_history', { memory_id: m.id, extra: true }, 'extra'],
      ['restore_memory', { memory_id: m.id }, 'version'],
      ['restore_memory', { memory_id: m.id, version: '1' }, 'version'],
      ['restore_memory', { memory_id: m.id, version: 0 }, 'version'],
      ['restore_memory', { memory_id: m.id, version: 1.5 }, 'version'],
      ['restore_memory', { memory_id: m.id, version: 2 ** 31 }, 'version'],
      ['restore_memory', { memory_id: 'nope', version: 1 }, 'memory_id'],
      ['restore_memory', { memory_id: m.id, version: 4 }, 'version'],
      ['export_memories', { format: 'json', include_history: 'yes' }, 'include_history'],
    ];
    for (const [name, data, field] of cases) {
      const res = await tool(owner, name, data);
      expect({ name, data, status: res.status, field: res.json.field }).toEqual({
        name,
        data,
        status: 400,
        field,
      });
      expect(String(res.json.message)).toMatch(new RegExp(field));
    }
    const missing = await tool(owner, 'restore_memory', { memory_id: m.id, version: 9 });
    expect([missing.status, missing.json.error, missing.json.field]).toEqual([404, 'not_found', 'version']);
    const badMcp = await mcp(owner, 'restore_memory', { memory_id: m.id, version: 'one' });
    expect(badMcp.isError).toBe(true);
    expect(JSON.stringify(badMcp.content)).toMatch(/version/);

    for (const [name, data] of [
      ['get_memory_history', { memory_id: m.id }],
      ['restore_memory', { memory_id: m.id, version: 1 }],
    ] as const) {
      expect((await post(`${t.url}/api/tools/${name}`, data)).status).toBe(401);
      expect((await tool({ ...owner, access_token: 'not.a.token' }, name, data)).status).toBe(401);
    }
    // The scope is checked before anything is looked up: the memory's owner does not matter.
    const own = (await ok(writeOnly, 'submit_memory', {
      text: 'write-only note',
      permission: 'private',
    })) as Memory;
    const wrongScope = await tool(writeOnly, 'get_memory_history', { memory_id: own.id });
    expect([wrongScope.status, wrongScope.json.error]).toEqual([403, 'permission_denied']);
    const readOnlyRestore = await tool(readOnly, 'restore_memory', { memory_id: m.id, version: 1 });
    expect([readOnlyRestore.status, readOnlyRestore.json.error]).toEqual([403, 'permission_denied']);
    await expect(mcp(readOnly, 'restore_memory', { memory_id: m.id, version: 1 })).rejects.toThrow(
      /403|insufficient_scope/,
    );
    expect((await tool(readOnly, 'get_memory_history', { memory_id: m.id })).status).toBe(403);
  });

  it('delete_memory deletes the history with the memory', async () => {
    const m = await edited();
    const rows = () =>
      queryDb(
        t,
        'memory',
        (s) => `SELECT count(*)::int AS n FROM ${s}.memory_versions WHERE memory_id = $1`,
        [m.id],
      );
    expect(await rows()).toEqual([{ n: 3 }]);
    await ok(owner, 'delete_memory', { memory_id: m.id });
    expect(await rows()).toEqual([{ n: 0 }]);
    expect((await tool(owner, 'get_memory_history', { memory_id: m.id })).status).toBe(404);
  });

  it('export_memories with include_history carries each history; import_memories ignores it', async () => {
    const exporter = await userToken(t, await registerClient(t), 'helga');
    const m = await edited(exporter);
    const plain = (await ok(exporter, 'export_memories', { format: 'ndjson' })) as { data: string };
    expect(JSON.parse(plain.data.trim())).not.toHaveProperty('history');
    const withHistory = (await ok(exporter, 'export_memories', {
      format: 'ndjson',
      include_history: true,
    })) as { data: string; count: number };
    const line = JSON.parse(withHistory.data.trim()) as { id: string; history: Version[] };
    const history = (await ok(exporter, 'get_memory_history', { memory_id: m.id })) as History;
    expect(line.history.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(line.history).toEqual(history.versions);

    const importer = await userToken(t, await registerClient(t), 'henrik');
    const imported = (await ok(importer, 'import_memories', {
      format: 'ndjson',
      data: withHistory.data,
    })) as {
      imported: number;
    };
    expect(imported.imported).toBe(1);
    const [copy] = ((await ok(importer, 'retrieve_memories', {})) as { memories: Memory[] }).memories;
    expect(copy!.text).toBe('The door code is 0815');
    expect(await ok(importer, 'get_memory_history', { memory_id: copy!.id })).toMatchObject({
      current_version: 1,
      versions: [],
    });
  });

  it('is listed over MCP with honest annotations and described in the OpenAPI document', async () => {
    const client = new Client({ name: 'e2e-history', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${owner.access_token}` } },
      }),
    );
    const { tools } = await client.listTools();
    await client.close();
    const history = tools.find((x) => x.name === 'get_memory_history')!;
    const restore = tools.find((x) => x.name === 'restore_memory')!;
    expect(history.annotations?.readOnlyHint).toBe(true);
    expect(history.inputSchema.required).toEqual(['memory_id']);
    expect(restore.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(restore.inputSchema.required).toEqual(['memory_id', 'version']);
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.paths).toHaveProperty(['/api/tools/get_memory_history']);
    expect(doc.paths).toHaveProperty(['/api/tools/restore_memory']);
    expect(doc.components.schemas).toHaveProperty('MemoryHistory');
    expect(doc.components.schemas).toHaveProperty('MemoryVersion');
  });
});
