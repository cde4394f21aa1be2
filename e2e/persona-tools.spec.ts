import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as Client2026,
  StreamableHTTPClientTransport as Transport2026,
} from '@modelcontextprotocol/client';
import { startFakeOpenAi, type FakeChatBody, type FakeOpenAi } from '@picard/service-kit/testing';
import {
  callTool,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

type Memory = { id: string; user_id: string; text: string; permission: string; similarity: number };
type Answer = { answer: string; generated: boolean; citations: string[]; memories: Memory[] };
type Persona = {
  user_id: string;
  display_name: string;
  description: string;
  tone: string;
  tags: string[];
  model: string;
  temperature: number;
  max_tokens: number;
  memory_limit: number;
  updated_at: string | null;
};
type Progress = { progress: number; total?: number; message?: string };

const PERSONA_TOOLS = ['get_persona', 'update_persona', 'query_user'];

async function connect(t: TestStack, who: UserToken) {
  const client = new Client({ name: 'e2e-persona', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${who.access_token}` } },
    }),
  );
  return client;
}

/** Olga's memories about one topic, one per permission, so every query retrieves all she lets a caller see. */
async function seed(t: TestStack, owner: UserToken, friend: UserToken) {
  const store = async (text: string, permission: string, extra: object = {}) => {
    const res = await callTool(t, owner.access_token, 'submit_memory', { text, permission, ...extra });
    if (res.status !== 200) throw new Error(`seed failed: ${res.text}`);
    return res.json.result as Memory;
  };
  return {
    priv: await store('My secret: I take the 7:40 train to Zurich every Tuesday', 'private'),
    pub: await store('I love travelling by train through the Alps', 'public'),
    shared: await store('Our family trip by night train to Vienna is in June', 'shared', {
      shared_with: { users: [friend.user_id] },
    }),
  };
}

const idsOf = (a: Answer) => a.memories.map((m) => m.id).sort();

describe('persona tools with the offline answerer', () => {
  let t: TestStack;
  let owner: UserToken;
  let friend: UserToken;
  let stranger: UserToken;
  let readOnly: UserToken;
  let writeOnly: UserToken;
  let m: Awaited<ReturnType<typeof seed>>;
  const ask = async (who: UserToken, data: object) => callTool(t, who.access_token, 'query_user', data);

  beforeAll(async () => {
    t = await startTestStack();
    const client = await registerClient(t);
    owner = await userToken(t, client, 'olga');
    friend = await userToken(t, client, 'fritz');
    stranger = await userToken(t, client, 'stan');
    readOnly = await userToken(t, await registerClient(t, ['memories:read']), 'rudi');
    writeOnly = await userToken(t, await registerClient(t, ['memories:write']), 'wanda');
    m = await seed(t, owner, friend);
  });
  afterAll(() => t?.stop());

  it('answers from what each caller may see: owner all, listed user public+shared, others public (REST)', async () => {
    const prompt = 'How do you like to travel?';
    const cases: [UserToken, string[]][] = [
      [owner, [m.priv.id, m.pub.id, m.shared.id]],
      [friend, [m.pub.id, m.shared.id]],
      [stranger, [m.pub.id]],
    ];
    for (const [who, visible] of cases) {
      const res = await ask(who, { user_id: owner.user_id, prompt });
      expect(res.status).toBe(200);
      const a = res.json.result as Answer;
      expect({ caller: who.user_id, ids: idsOf(a) }).toEqual({
        caller: who.user_id,
        ids: [...visible].sort(),
      });
      expect(a.generated).toBe(false);
      expect(a.answer).toMatch(/not a generated answer/);
      expect([...a.citations].sort()).toEqual([...visible].sort());
      expect(a.memories.every((x) => x.user_id === owner.user_id && typeof x.similarity === 'number')).toBe(
        true,
      );
      if (who !== owner) {
        expect(res.text).not.toContain(m.priv.id);
        expect(res.text).not.toContain('Zurich');
      }
    }
  });

  it('serves the same answer over MCP (2025 and 2026 clients), never a private memory of another user', async () => {
    const rest = (await ask(stranger, { user_id: owner.user_id, prompt: 'Trains?' })).json.result as Answer;
    const client = await connect(t, stranger);
    const res = await client.callTool({
      name: 'query_user',
      arguments: { user_id: owner.user_id, prompt: 'Trains?' },
    });
    await client.close();
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent).toEqual(rest);
    expect(JSON.parse((res.content as { text: string }[])[0]!.text)).toEqual(rest);
    expect(JSON.stringify(res)).not.toContain('Zurich');

    const c2026 = new Client2026(
      { name: 'e2e-2026', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await c2026.connect(
      new Transport2026(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${friend.access_token}` } },
      }),
    );
    const viaFriend = (
      await c2026.callTool({ name: 'query_user', arguments: { user_id: owner.user_id, prompt: 'Trains?' } })
    ).structuredContent as Answer;
    await c2026.close();
    expect(idsOf(viaFriend)).toEqual([m.pub.id, m.shared.id].sort());
  });

  it('says that nothing is known when the caller may see nothing, citing nothing', async () => {
    const res = await ask(owner, { user_id: stranger.user_id, prompt: 'What do you do?' });
    expect(res.status).toBe(200);
    expect(res.json.result).toMatchObject({ generated: false, citations: [], memories: [] });
    expect(res.json.result.answer).toMatch(/know nothing/);
  });

  it('streams the offline answer to an MCP client that asks for progress', async () => {
    const client = await connect(t, owner);
    const progress: Progress[] = [];
    const res = await client.callTool(
      { name: 'query_user', arguments: { user_id: owner.user_id, prompt: 'Train plans?', stream: true } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    );
    await client.close();
    const a = res.structuredContent as Answer;
    expect(a.generated).toBe(false);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((p) => p.message).join('')).toBe(a.answer);
    expect(progress.at(-1)!.progress).toBe(a.answer.length);
    // Over REST `stream` changes nothing.
    const rest = await ask(owner, { user_id: owner.user_id, prompt: 'Train plans?', stream: true });
    expect(rest.json.result).toEqual(a);
  });

  it('updates the caller’s own persona; everyone reads it; query_user follows its settings', async () => {
    const fresh = await callTool(t, stranger.access_token, 'get_persona', { user_id: friend.user_id });
    expect(fresh.status).toBe(200);
    expect(fresh.json.result).toMatchObject({ user_id: friend.user_id, updated_at: null, tags: [] });

    const upd = await callTool(t, owner.access_token, 'update_persona', {
      display_name: 'Olga 🚆',
      description: 'Rail enthusiast',
      tone: 'cheerful',
      tags: ['travel', 'trains'],
      temperature: 0.9,
      max_tokens: 256,
      memory_limit: 1,
    });
    expect(upd.status).toBe(200);
    const p = upd.json.result as Persona;
    expect(p).toMatchObject({
      user_id: owner.user_id,
      display_name: 'Olga 🚆',
      description: 'Rail enthusiast',
      tone: 'cheerful',
      tags: ['travel', 'trains'],
      model: 'offline',
      temperature: 0.9,
      max_tokens: 256,
      memory_limit: 1,
    });
    expect(Date.parse(p.updated_at!)).not.toBeNaN();
    const retag = await callTool(t, owner.access_token, 'update_persona', { tags: ['rail'] });
    expect(retag.json.result).toMatchObject({ tags: ['rail'], tone: 'cheerful' });
    // An empty list clears the tags (which, when set, narrow the memories that feed the persona).
    const untag = await callTool(t, owner.access_token, 'update_persona', { tags: [] });
    expect(untag.json.result).toMatchObject({ tags: [], tone: 'cheerful', memory_limit: 1 });

    const client = await connect(t, stranger);
    const seen = await client.callTool({ name: 'get_persona', arguments: { user_id: owner.user_id } });
    await client.close();
    expect(seen.structuredContent).toEqual(untag.json.result);

    const a = (await ask(stranger, { user_id: owner.user_id, prompt: 'Trains?' })).json.result as Answer;
    expect(a.memories).toHaveLength(1);
    expect(a.answer).toContain('Olga 🚆');
    const more = (await ask(owner, { user_id: owner.user_id, prompt: 'Trains?', limit: 3 })).json
      .result as Answer;
    expect(more.memories).toHaveLength(3);
    // update_persona takes no user id: nobody can write someone else's persona.
    const other = await callTool(t, stranger.access_token, 'update_persona', {
      user_id: owner.user_id,
      tone: 'grumpy',
    });
    expect(other.status).toBe(400);
    expect(other.json.field).toBe('data.user_id');
  });

  it('answers bad input with 400 naming the field, and changes nothing', async () => {
    const before = (await callTool(t, owner.access_token, 'get_persona', { user_id: owner.user_id })).json
      .result as Persona;
    const bad: [string, unknown, string][] = [
      ['get_persona', {}, 'data.user_id'],
      ['get_persona', { user_id: 'olga' }, 'data.user_id'],
      ['get_persona', { user_id: 7 }, 'data.user_id'],
      ['query_user', { user_id: 'nope', prompt: 'hi' }, 'data.user_id'],
      ['query_user', { user_id: owner.user_id }, 'data.prompt'],
      ['query_user', { user_id: owner.user_id, prompt: '' }, 'data.prompt'],
      ['query_user', { user_id: owner.user_id, prompt: '   ' }, 'data.prompt'],
      ['query_user', { user_id: owner.user_id, prompt: 'x'.repeat(4001) }, 'data.prompt'],
      ['query_user', { user_id: owner.user_id, prompt: 42 }, 'data.prompt'],
      ['query_user', { user_id: owner.user_id, prompt: 'hi', limit: 0 }, 'data.limit'],
      ['query_user', { user_id: owner.user_id, prompt: 'hi', limit: 51 }, 'data.limit'],
      ['query_user', { user_id: owner.user_id, prompt: 'hi', limit: 2.5 }, 'data.limit'],
      ['query_user', { user_id: owner.user_id, prompt: 'hi', stream: 'yes' }, 'data.stream'],
      ['update_persona', { tone: '' }, 'data.tone'],
      ['update_persona', { display_name: 'x'.repeat(101) }, 'data.display_name'],
      ['update_persona', { description: 'x'.repeat(1001) }, 'data.description'],
      ['update_persona', { temperature: 2.5 }, 'data.temperature'],
      ['update_persona', { temperature: '0.5' }, 'data.temperature'],
      ['update_persona', { max_tokens: 0 }, 'data.max_tokens'],
      ['update_persona', { memory_limit: 51 }, 'data.memory_limit'],
      ['update_persona', { tags: 'travel' }, 'data.tags'],
      ['update_persona', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'data.tags'],
      ['update_persona', { tags: ['ok', ' '] }, 'data.tags.1'],
      ['update_persona', { tone: 'calm', mood: 'x' }, 'data.mood'],
    ];
    for (const [name, data, field] of bad) {
      const res = await callTool(t, owner.access_token, name, data);
      expect({ name, data, status: res.status, field: res.json.field }).toEqual({
        name,
        data,
        status: 400,
        field,
      });
    }
    // 4000 characters is the limit, counted in characters, not UTF-16 units.
    const edge = await ask(owner, { user_id: owner.user_id, prompt: '🚆'.repeat(4000) });
    expect(edge.status).toBe(200);
    const after = (await callTool(t, owner.access_token, 'get_persona', { user_id: owner.user_id })).json
      .result as Persona;
    expect(after).toEqual(before);

    const client = await connect(t, owner);
    const mcpBad = await client.callTool({ name: 'query_user', arguments: { user_id: 'x', prompt: 'hi' } });
    await client.close();
    expect(mcpBad.isError).toBe(true);
    expect(JSON.stringify(mcpBad.content)).toMatch(/user_id/);
  });

  it('refuses a missing token with 401 and a wrong scope with 403', async () => {
    const calls: [string, unknown, UserToken][] = [
      ['get_persona', { user_id: owner.user_id }, writeOnly],
      ['query_user', { user_id: owner.user_id, prompt: 'hi' }, writeOnly],
      ['update_persona', { tone: 'hacked' }, readOnly],
    ];
    for (const [name, data, wrongScope] of calls) {
      const anonymous = await fetch(`${t.url}/api/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tool: name, data }),
      });
      expect({ name, status: anonymous.status }).toEqual({ name, status: 401 });
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const res = await callTool(t, wrongScope.access_token, name, data);
      expect({ name, status: res.status }).toEqual({ name, status: 403 });
    }
    const client = await connect(t, readOnly);
    await expect(client.callTool({ name: 'update_persona', arguments: { tone: 'hacked' } })).rejects.toThrow(
      /403|insufficient_scope/,
    );
    await client.close();
    const read = (await callTool(t, readOnly.access_token, 'get_persona', { user_id: readOnly.user_id })).json
      .result as Persona;
    expect(read.tone).not.toBe('hacked');
  });

  it('lists the persona tools over MCP and in the OpenAPI document', async () => {
    const client = await connect(t, owner);
    const { tools } = await client.listTools();
    await client.close();
    expect(tools.map((x) => x.name)).toEqual(expect.arrayContaining(PERSONA_TOOLS));
    expect(tools.find((x) => x.name === 'query_user')!.inputSchema.required).toEqual(['user_id', 'prompt']);
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const name of PERSONA_TOOLS) expect(doc.paths).toHaveProperty([`/api/tools/${name}`]);
  });
});

/** The ids quoted in a chat request's system message. */
const quotedIds = (body: FakeChatBody) =>
  [...body.messages[0]!.content.matchAll(/<memory id="([0-9a-f-]{36})">/g)].map((x) => x[1]!);

describe('persona tools with an OpenAI-compatible LLM (fake, on loopback)', () => {
  let t: TestStack;
  let llm: FakeOpenAi;
  let owner: UserToken;
  let friend: UserToken;
  let stranger: UserToken;
  let m: Awaited<ReturnType<typeof seed>>;

  beforeAll(async () => {
    llm = await startFakeOpenAi({
      reply: (body) => `I do love trains, as I noted [memory:${quotedIds(body)[0]}]. Choo choo!`,
      chunkChars: 6,
    });
    t = await startTestStack({ LLM_BASE_URL: llm.url, LLM_API_KEY: 'test', LLM_MODEL: 'fake-model' });
    const client = await registerClient(t);
    owner = await userToken(t, client, 'olga');
    friend = await userToken(t, client, 'fritz');
    stranger = await userToken(t, client, 'stan');
    m = await seed(t, owner, friend);
  });
  afterAll(async () => {
    await t?.stop();
    await llm?.close();
  });

  it('streams the generated answer as progress notifications; the result cites what was quoted', async () => {
    llm.reset();
    const client = await connect(t, stranger);
    const progress: Progress[] = [];
    const res = await client.callTool(
      {
        name: 'query_user',
        arguments: { user_id: owner.user_id, prompt: 'Do you like trains?', stream: true },
      },
      undefined,
      { onprogress: (p) => progress.push(p) },
    );
    await client.close();
    expect(res.isError).toBeFalsy();
    const a = res.structuredContent as Answer;
    expect(a).toMatchObject({
      generated: true,
      answer: `I do love trains, as I noted [memory:${m.pub.id}]. Choo choo!`,
      citations: [m.pub.id],
    });
    expect(a.memories.map((x) => x.id)).toEqual([m.pub.id]);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.map((p) => p.message).join('')).toBe(a.answer);
    expect(progress.map((p) => p.progress)).toEqual(
      progress.map((_, i) => progress.slice(0, i + 1).reduce((n, p) => n + p.message!.length, 0)),
    );

    const [body] = llm.chatRequests();
    expect(llm.chatRequests()).toHaveLength(1);
    expect(body).toMatchObject({ model: 'fake-model', stream: true });
    const system = body!.messages[0]!.content;
    expect(system).toContain(`<memory id="${m.pub.id}">\n${m.pub.text}\n</memory>`);
    expect(body!.messages[1]).toEqual({ role: 'user', content: 'Do you like trains?' });
    const sent = JSON.stringify(llm.requests);
    for (const hidden of [m.priv, m.shared]) {
      expect(sent).not.toContain(hidden.id);
      expect(sent).not.toContain(hidden.text);
    }
  });

  it('streams to a client pinned to the 2026-07-28 revision too', async () => {
    const client = new Client2026(
      { name: 'e2e-2026', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new Transport2026(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${friend.access_token}` } },
      }),
    );
    const progress: Progress[] = [];
    const res = await client.callTool(
      { name: 'query_user', arguments: { user_id: owner.user_id, prompt: 'Night trains?', stream: true } },
      { onprogress: (p) => progress.push(p) },
    );
    await client.close();
    const a = res.structuredContent as Answer;
    expect(a.generated).toBe(true);
    expect(a.memories.map((x) => x.id).sort()).toEqual([m.pub.id, m.shared.id].sort());
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.map((p) => p.message).join('')).toBe(a.answer);
  });

  it('answers the owner from private memories too, unary over REST even when stream is asked', async () => {
    llm.reset();
    const res = await callTool(t, owner.access_token, 'query_user', {
      user_id: owner.user_id,
      prompt: 'Which trains do you take?',
      stream: true,
    });
    expect(res.status).toBe(200);
    const a = res.json.result as Answer;
    expect(a.generated).toBe(true);
    expect(a.citations).toHaveLength(1);
    expect(a.memories.map((x) => x.id).sort()).toEqual([m.priv.id, m.pub.id, m.shared.id].sort());
    const [body] = llm.chatRequests();
    expect(body!.stream).toBeFalsy();
    expect(quotedIds(body!).sort()).toEqual([m.priv.id, m.pub.id, m.shared.id].sort());
    expect(a.citations[0]).toBe(quotedIds(body!)[0]);
  });

  it('maps an LLM failure to a clear tool error', async () => {
    llm.reset();
    llm.setMode('fail', { failStatus: 400 });
    const res = await callTool(t, friend.access_token, 'query_user', {
      user_id: owner.user_id,
      prompt: `Something new ${randomUUID()}`,
    });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error: 'unavailable' });
    expect(res.json.message).toMatch(/language model failed with HTTP 400/);
  });
});
