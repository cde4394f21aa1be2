import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  Client as Client2026,
  StreamableHTTPClientTransport as Transport2026,
} from '@modelcontextprotocol/client';
import { createLogger, loadConfig } from '@picard/service-kit';
import { gatewayConfigSchema, startGateway, type GatewayHandle } from '@picard/gateway';
import {
  bearer,
  callTool,
  clientForm,
  refused,
  registerClient,
  startTestStack,
  userToken,
  within,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

const NOT_A_MEMORY = '6f1c8a52-3d0e-4c7b-9a1e-2b5d4f8e9c10';
const ACCEPT_BOTH = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** A stock 2025-11-25 client (SDK 1.x) with its notifications recorded. */
interface Connected {
  client: Client;
  transport: StreamableHTTPClientTransport;
  updates: string[];
  listChanges: () => number;
  /** Errors the first GET event stream, as a dropped connection would. */
  dropStream: () => void;
  /** GETs the client made after the first, with their Last-Event-ID. */
  reconnects: (string | null)[];
  /** Holds reconnecting GETs until opened (for the resumption test). */
  holdReconnects: { open: () => void } | undefined;
}

/**
 * Issue #14 part 3: `MCP_SESSIONS=stateful`. Sessions of stock 2025-11-25 clients, resource
 * subscriptions with notifications driven by memory events (the visibility rule decides who hears
 * what), two gateway instances on one bus, expiry, DELETE, Last-Event-ID resumption, and the refusals.
 * The stack's own gateway is "A"; more gateways share its services and bus.
 */
describe('MCP stateful mode (MCP_SESSIONS=stateful)', () => {
  let t: TestStack;
  let oauthClient: { client_id: string; client_secret: string };
  let gatewayB: GatewayHandle;
  let capped: GatewayHandle;
  let shortLived: GatewayHandle;
  let stateless: GatewayHandle;
  const open: Connected[] = [];
  let users = 0;

  /** The time of the short-lived gateway's sessions: moved by the test, never waited for. */
  const clock = { ms: Date.now() };

  const gateway = (env: NodeJS.ProcessEnv, now?: () => number) =>
    startGateway({
      clock: now,
      config: loadConfig(gatewayConfigSchema, { ...t.env, INTERNAL_TOKEN_KEY: t.stack.internalKey, ...env }),
      logger: createLogger('gateway-extra', process.env.TEST_LOG_LEVEL ?? 'silent'),
      addresses: t.stack.addresses,
      bus: t.bus,
      host: '127.0.0.1',
      port: 0,
    });

  beforeAll(async () => {
    t = await startTestStack({ MCP_SESSIONS: 'stateful' });
    oauthClient = await registerClient(t);
    [gatewayB, capped, shortLived, stateless] = await Promise.all([
      gateway({}),
      gateway({ MCP_SESSIONS_PER_USER: '2', MCP_SESSION_MAX_SUBSCRIPTIONS: '3' }),
      gateway({ MCP_SESSION_TTL_SECONDS: '60' }, () => clock.ms),
      gateway({ MCP_SESSIONS: 'stateless' }),
    ]);
  });
  afterAll(async () => {
    for (const c of open) await c.client.close().catch(() => undefined);
    await Promise.all([gatewayB, capped, shortLived, stateless].map((g) => g?.stop()));
    await t?.stop();
  });

  /** A fresh user, so no test hears another's events. */
  const newUser = (label: string) => userToken(t, oauthClient, `${label}${++users}`);

  /** Revokes an access token at the stack's gateway (RFC 7009, as the OAuth client). */
  const revoke = (token: string) => clientForm(t, oauthClient, '/revoke', { token });

  async function connect(
    base: string,
    token: string,
    opts: { holdReconnects?: boolean } = {},
  ): Promise<Connected> {
    let opened!: () => void;
    const streamOpen = new Promise<void>((resolve) => (opened = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let gets = 0;
    const c: Connected = {
      updates: [],
      listChanges: () => listChanges,
      dropStream: () => undefined,
      reconnects: [],
      holdReconnects: opts.holdReconnects ? { open: release } : undefined,
    } as unknown as Connected;
    let listChanges = 0;
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
      requestInit: { headers: bearer(token) },
      reconnectionOptions: {
        initialReconnectionDelay: 10,
        maxReconnectionDelay: 100,
        reconnectionDelayGrowFactor: 1,
        maxRetries: 5,
      },
      fetch: async (url, init) => {
        if (init?.method !== 'GET') return fetch(url, init);
        if (++gets > 1) {
          c.reconnects.push(new Headers(init.headers).get('last-event-id'));
          if (opts.holdReconnects) await released;
          return fetch(url, init);
        }
        const res = await fetch(url, init);
        if (res.status !== 200 || !res.body) return res;
        opened();
        const reader = res.body.getReader();
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            c.dropStream = () => {
              controller.error(new Error('connection dropped'));
              void reader.cancel().catch(() => undefined);
            };
          },
          async pull(controller) {
            try {
              const chunk = await reader.read();
              if (chunk.done) controller.close();
              else controller.enqueue(chunk.value);
            } catch {
              // dropped
            }
          },
          cancel: (reason) => reader.cancel(reason),
        });
        return new Response(body, res);
      },
    });
    const client = new Client({ name: 'e2e-sessions', version: '1.0.0' });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      c.updates.push(n.params.uri);
    });
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      listChanges++;
    });
    await client.connect(transport);
    // The SDK opens the GET event stream right after initialization; notifications need it.
    await streamOpen;
    Object.assign(c, { client, transport });
    open.push(c);
    return c;
  }

  const submit = async (base: string, user: UserToken, data: Record<string, unknown>) => {
    const res = await callTool({ url: base }, user.access_token, 'submit_memory', data);
    expect(res.status).toBe(200);
    return res.json.result as { id: string };
  };
  const tool = async (base: string, user: UserToken, name: string, data: Record<string, unknown>) => {
    const res = await callTool({ url: base }, user.access_token, name, data);
    expect(res.status).toBe(200);
    return res.json.result;
  };
  const sharedWith = (user: UserToken, text: string) => ({
    text,
    permission: 'shared',
    shared_with: { users: [user.user_id] },
  });
  const userUri = (user: UserToken) => `users://${user.user_id}/memories`;
  const heard = (c: Connected, uri: string, times = 1) =>
    within(5000, async () => c.updates.filter((u) => u === uri).length >= times);

  /** A raw MCP POST with a session id. */
  const rawPost = (base: string, token: string, sessionId: string | undefined, body: unknown) =>
    fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        ...ACCEPT_BOTH,
        ...bearer(token),
        ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' } : {}),
      },
      body: JSON.stringify(body),
    });
  const rawSession = async (base: string, token: string) => {
    const res = await rawPost(base, token, undefined, INITIALIZE);
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const id = res.headers.get('mcp-session-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    return id!;
  };
  const ping = async (base: string, token: string, sessionId: string) => {
    const res = await rawPost(base, token, sessionId, { jsonrpc: '2.0', id: 1, method: 'ping' });
    const text = await res.text();
    return { status: res.status, text };
  };

  describe('sessions', () => {
    it('gives a 2025-11-25 client a session with tools and resources; a 2026-07-28 client is served per request', async () => {
      const ann = await newUser('ann');
      const c = await connect(t.url, ann.access_token);
      expect(c.transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(c.client.getServerCapabilities()?.resources).toMatchObject({
        subscribe: true,
        listChanged: true,
      });
      const stored = await c.client.callTool({
        name: 'submit_memory',
        arguments: { text: 'sessions keep the stream open', permission: 'private' },
      });
      const memory = stored.structuredContent as { id: string };
      const read = await c.client.readResource({ uri: `memories://${memory.id}` });
      expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ id: memory.id });
      // Her own list of memories (resources/list) changed: said on her own stream.
      expect(await within(5000, async () => c.listChanges() >= 1)).toBe(true);

      const modern = new Client2026(
        { name: 'e2e-2026', version: '1.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      await modern.connect(
        new Transport2026(new URL(`${t.url}/mcp`), { requestInit: { headers: bearer(ann.access_token) } }),
      );
      const { tools } = await modern.listTools();
      expect(tools.map((x) => x.name)).toContain('submit_memory');
      await modern.close();
    });

    it('serves a 2025 request that names no session statelessly, as before', async () => {
      const ann = await newUser('ann');
      const res = await rawPost(t.url, ann.access_token, undefined, {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      expect(await res.text()).toContain('submit_memory');
    });

    it('closes a session on DELETE', async () => {
      const ann = await newUser('ann');
      const c = await connect(t.url, ann.access_token);
      const id = c.transport.sessionId!;
      expect((await ping(t.url, ann.access_token, id)).status).toBe(200);
      await c.transport.terminateSession();
      expect((await ping(t.url, ann.access_token, id)).status).toBe(404);
    });

    it('expires a session nobody uses; one with an open event stream stays', async () => {
      const ann = await newUser('ann');
      const idle = await rawSession(shortLived.url, ann.access_token);
      const used = await rawSession(shortLived.url, ann.access_token);
      const streaming = await connect(shortLived.url, ann.access_token);
      // MCP_SESSION_TTL_SECONDS=60 on this gateway, whose clock the test moves.
      clock.ms += 59_000;
      expect((await ping(shortLived.url, ann.access_token, used)).status).toBe(200);
      clock.ms += 1_000;
      expect((await ping(shortLived.url, ann.access_token, idle)).status).toBe(404);
      expect((await ping(shortLived.url, ann.access_token, used)).status).toBe(200);
      expect((await ping(shortLived.url, ann.access_token, streaming.transport.sessionId!)).status).toBe(200);
      clock.ms += 60_000;
      expect((await ping(shortLived.url, ann.access_token, used)).status).toBe(404);
      // The one with an open event stream is in use however long nobody sends a request.
      await streaming.client.listTools();
    });

    it('keeps at most MCP_SESSIONS_PER_USER sessions per user: the least recently used is closed', async () => {
      const ann = await newUser('ann');
      const first = await rawSession(capped.url, ann.access_token);
      const second = await rawSession(capped.url, ann.access_token);
      expect((await ping(capped.url, ann.access_token, first)).status).toBe(200); // now the most recent
      const third = await rawSession(capped.url, ann.access_token);
      expect((await ping(capped.url, ann.access_token, second)).status).toBe(404);
      expect((await ping(capped.url, ann.access_token, first)).status).toBe(200);
      expect((await ping(capped.url, ann.access_token, third)).status).toBe(200);
    });
  });

  describe('subscriptions', () => {
    it('tells a subscriber when another user shares a memory with them, never about one they may not see', async () => {
      const owner = await newUser('olga');
      const reader = await newUser('rita');
      const c = await connect(t.url, reader.access_token);
      await c.client.subscribeResource({ uri: userUri(owner) });

      await submit(t.url, owner, { text: 'olga keeps this to herself', permission: 'private' });
      await submit(t.url, owner, sharedWith(reader, 'olga shares this with rita'));
      expect(await heard(c, userUri(owner))).toBe(true);
      // Events are handled in order: the private memory came first and was not told.
      expect(c.updates).toEqual([userUri(owner)]);
      const read = await c.client.readResource({ uri: userUri(owner) });
      const listed = JSON.parse((read.contents[0] as { text: string }).text) as {
        memories: { text: string }[];
      };
      expect(listed.memories.map((m) => m.text)).toEqual(['olga shares this with rita']);
    });

    it('stops telling about a memory once its share is revoked (and resumes when shared again)', async () => {
      const owner = await newUser('olga');
      const reader = await newUser('rita');
      const watched = await submit(t.url, owner, sharedWith(reader, 'the watched memory'));
      const marker = await submit(t.url, owner, sharedWith(reader, 'the marker memory'));
      const c = await connect(t.url, reader.access_token);
      const watchedUri = `memories://${watched.id}`;
      const markerUri = `memories://${marker.id}`;
      await c.client.subscribeResource({ uri: watchedUri });
      await c.client.subscribeResource({ uri: markerUri });

      await tool(t.url, owner, 'update_memory', {
        memory_id: watched.id,
        text: 'the watched memory, edited',
      });
      expect(await heard(c, watchedUri)).toBe(true);

      await tool(t.url, owner, 'modify_permissions', { memory_id: watched.id, permission: 'private' });
      await tool(t.url, owner, 'update_memory', { memory_id: watched.id, text: 'now private and edited' });
      await tool(t.url, owner, 'update_memory', { memory_id: marker.id, tags: ['barrier'] });
      expect(await heard(c, markerUri)).toBe(true);
      // The revocation and the edit after it were not told (they came before the marker).
      expect(c.updates).toEqual([watchedUri, markerUri]);
      await expect(c.client.readResource({ uri: watchedUri })).rejects.toThrow(/not found/i);

      await tool(t.url, owner, 'modify_permissions', {
        memory_id: watched.id,
        permission: 'shared',
        shared_with: { users: [reader.user_id] },
      });
      expect(await heard(c, watchedUri, 2)).toBe(true);
    });

    it('tells a deletion to a subscriber who could see the memory', async () => {
      const owner = await newUser('olga');
      const reader = await newUser('rita');
      const memory = await submit(t.url, owner, sharedWith(reader, 'soon gone'));
      const c = await connect(t.url, reader.access_token);
      await c.client.subscribeResource({ uri: `memories://${memory.id}` });
      await c.client.subscribeResource({ uri: userUri(owner) });
      await tool(t.url, owner, 'delete_memory', { memory_id: memory.id });
      expect(await heard(c, `memories://${memory.id}`)).toBe(true);
      expect(await heard(c, userUri(owner))).toBe(true);
    });

    it('sends nothing after unsubscribe', async () => {
      const owner = await newUser('olga');
      const reader = await newUser('rita');
      const c = await connect(t.url, reader.access_token);
      await c.client.subscribeResource({ uri: userUri(owner) });
      await c.client.unsubscribeResource({ uri: userUri(owner) });
      const marker = await submit(t.url, reader, { text: 'rita marks time', permission: 'private' });
      await c.client.subscribeResource({ uri: `memories://${marker.id}` });
      await submit(t.url, owner, sharedWith(reader, 'after the unsubscribe'));
      await tool(t.url, reader, 'update_memory', { memory_id: marker.id, tags: ['barrier'] });
      expect(await heard(c, `memories://${marker.id}`)).toBe(true);
      expect(c.updates).toEqual([`memories://${marker.id}`]);
    });

    it('delivers to the gateway holding the stream, whichever gateway the change went through', async () => {
      const owner = await newUser('olga');
      const reader = await newUser('rita');
      const onA = await connect(t.url, reader.access_token);
      await onA.client.subscribeResource({ uri: userUri(owner) });

      // Through gateway B over REST...
      await submit(gatewayB.url, owner, sharedWith(reader, 'written through gateway B'));
      expect(await heard(onA, userUri(owner))).toBe(true);
      // ...and through an MCP session on gateway B.
      const ownerOnB = await connect(gatewayB.url, owner.access_token);
      await ownerOnB.client.callTool({
        name: 'submit_memory',
        arguments: sharedWith(reader, 'written through an MCP session on gateway B'),
      });
      expect(await heard(onA, userUri(owner), 2)).toBe(true);
      // A session lives in its gateway: B does not know A's (a load balancer must keep them apart).
      expect((await ping(gatewayB.url, reader.access_token, onA.transport.sessionId!)).status).toBe(404);
    });

    it("ends a session's event stream once its token is revoked: nothing more is told", async () => {
      const owner = await newUser('olga');
      const reader = await newUser('rita');
      const witness = await newUser('wes');
      const c = await connect(t.url, reader.access_token);
      const w = await connect(t.url, witness.access_token);
      await c.client.subscribeResource({ uri: userUri(owner) });
      await w.client.subscribeResource({ uri: userUri(owner) });
      const both = (text: string) => ({
        text,
        permission: 'shared',
        shared_with: { users: [reader.user_id, witness.user_id] },
      });
      await submit(t.url, owner, both('before the revocation'));
      expect(await heard(c, userUri(owner))).toBe(true);

      expect((await revoke(reader.access_token)).status).toBe(200);
      // How soon every gateway hears of a revocation is asserted below (1 s); this test is about the
      // stream. (It once failed here: the suite's gateways shared one deny-list consumer; DEBUGGING.)
      expect(await within(5000, refused(t, reader.access_token))).toBe(true);
      await submit(t.url, owner, both('after the revocation'));
      expect(await heard(w, userUri(owner), 2)).toBe(true);
      expect(c.updates).toEqual([userUri(owner)]);
      // Its stream was ended; the client's reconnection carries the revoked token and is refused.
      expect(await within(5000, async () => c.reconnects.length >= 1)).toBe(true);
    });

    it('resumes a dropped event stream with Last-Event-ID: what was sent meanwhile is replayed', async () => {
      const owner = await newUser('olga');
      const reader = await newUser('rita');
      const c = await connect(t.url, reader.access_token, { holdReconnects: true });
      const witness = await connect(t.url, reader.access_token);
      await c.client.subscribeResource({ uri: userUri(owner) });
      await witness.client.subscribeResource({ uri: userUri(owner) });
      await submit(t.url, owner, sharedWith(reader, 'before the drop'));
      expect(await heard(c, userUri(owner))).toBe(true);

      c.dropStream();
      expect(await within(5000, async () => c.reconnects.length >= 1)).toBe(true);
      await submit(t.url, owner, sharedWith(reader, 'while disconnected 1'));
      await submit(t.url, owner, sharedWith(reader, 'while disconnected 2'));
      // The witness heard both: both were handled for every session (events go one at a time).
      expect(await heard(witness, userUri(owner), 3)).toBe(true);
      expect(c.updates).toHaveLength(1);

      c.holdReconnects!.open();
      expect(await heard(c, userUri(owner), 3)).toBe(true);
      expect(c.reconnects[0]).toMatch(/^\d+\._GET_stream$/);
      // And the resumed stream carries what comes next.
      await submit(t.url, owner, sharedWith(reader, 'after the resumption'));
      expect(await heard(c, userUri(owner), 4)).toBe(true);
    });
  });

  describe('refusals', () => {
    // Each gateway's deny-list listens on a consumer of its own: sharing one, they split the revocations.
    it('every gateway instance refuses a revoked token within a second (each hears every revocation)', async () => {
      const gateways = [t, gatewayB, capped, shortLived, stateless];
      for (let round = 0; round < 3; round++) {
        const user = await newUser('rex');
        for (const g of gateways) expect(await refused(g, user.access_token)()).toBe(false);
        expect((await revoke(user.access_token)).status).toBe(200);
        const heard = await Promise.all(gateways.map((g) => within(1000, refused(g, user.access_token))));
        expect({ round, heard }).toEqual({ round, heard: gateways.map(() => true) });
      }
    });

    it('refuses a missing or invalid token (401)', async () => {
      const none = await fetch(`${t.url}/mcp`, {
        method: 'POST',
        headers: ACCEPT_BOTH,
        body: JSON.stringify(INITIALIZE),
      });
      expect(none.status).toBe(401);
      const ann = await newUser('ann');
      const id = await rawSession(t.url, ann.access_token);
      const bad = await rawPost(t.url, 'not-a-token', id, { jsonrpc: '2.0', id: 1, method: 'ping' });
      expect(bad.status).toBe(401);
    });

    it('refuses resources/subscribe without memories:read (403, step-up challenge)', async () => {
      const writer = await userToken(t, await registerClient(t, ['memories:write']), `walt${++users}`);
      const c = await connect(t.url, writer.access_token);
      await expect(c.client.subscribeResource({ uri: userUri(writer) })).rejects.toMatchObject({
        code: 403,
        message: expect.stringContaining('insufficient_scope'),
      });
      const res = await rawPost(t.url, writer.access_token, c.transport.sessionId, {
        jsonrpc: '2.0',
        id: 9,
        method: 'resources/subscribe',
        params: { uri: userUri(writer) },
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toMatch(/insufficient_scope.*memories:read/);
    });

    it("refuses another user's private memory exactly like one that does not exist", async () => {
      const owner = await newUser('olga');
      const stranger = await newUser('sam');
      const secret = await submit(t.url, owner, { text: 'not for sam', permission: 'private' });
      const c = await connect(t.url, stranger.access_token);
      const failure = async (uri: string) => {
        const err = (await c.client.subscribeResource({ uri }).then(
          () => undefined,
          (e: unknown) => e,
        )) as { code: number; message: string };
        expect(err).toBeDefined();
        return { code: err.code, message: err.message.replace(uri, '<uri>') };
      };
      const hidden = await failure(`memories://${secret.id}`);
      const missing = await failure(`memories://${NOT_A_MEMORY}`);
      expect(hidden).toEqual(missing);
      expect(hidden.message).toMatch(/not found/i);
      // And nothing about it reaches sam later.
      await tool(t.url, owner, 'update_memory', { memory_id: secret.id, text: 'still not for sam' });
      const marker = await submit(t.url, stranger, { text: 'sam marks time', permission: 'private' });
      await c.client.subscribeResource({ uri: `memories://${marker.id}` });
      await tool(t.url, stranger, 'update_memory', { memory_id: marker.id, tags: ['barrier'] });
      expect(await heard(c, `memories://${marker.id}`)).toBe(true);
      expect(c.updates).toEqual([`memories://${marker.id}`]);
    });

    it.each([
      ['not a uuid', 'memories://not-a-uuid'],
      ['extra path', `memories://${NOT_A_MEMORY}/more`],
      ['a query', `memories://${NOT_A_MEMORY}?x=1`],
      ['users without /memories', `users://${NOT_A_MEMORY}`],
      ['another scheme', 'file:///etc/passwd'],
      ['oversized', `memories://${'a'.repeat(5000)}`],
      ['empty', ''],
    ])('refuses a malformed resource URI (%s) with invalid params', async (_label, uri) => {
      const ann = await newUser('ann');
      const c = await connect(t.url, ann.access_token);
      await expect(c.client.subscribeResource({ uri })).rejects.toMatchObject({ code: -32602 });
      await expect(c.client.unsubscribeResource({ uri })).rejects.toMatchObject({ code: -32602 });
    });

    it('caps the subscriptions of one session (MCP_SESSION_MAX_SUBSCRIPTIONS)', async () => {
      const ann = await newUser('ann');
      const others = await Promise.all([newUser('u'), newUser('u'), newUser('u'), newUser('u')]);
      const c = await connect(capped.url, ann.access_token);
      for (const u of others.slice(0, 3)) await c.client.subscribeResource({ uri: userUri(u) });
      await c.client.subscribeResource({ uri: userUri(others[0]!) }); // the same one again counts once
      await expect(c.client.subscribeResource({ uri: userUri(others[3]!) })).rejects.toThrow(
        /at most 3 subscriptions/,
      );
      await c.client.unsubscribeResource({ uri: userUri(others[0]!) });
      await c.client.subscribeResource({ uri: userUri(others[3]!) });
    });

    it("refuses another user's session id like an unknown one, for POST, GET and DELETE", async () => {
      const owner = await newUser('olga');
      const intruder = await newUser('ivan');
      const c = await connect(t.url, owner.access_token);
      const id = c.transport.sessionId!;
      const unknown = await ping(t.url, intruder.access_token, NOT_A_MEMORY);
      const foreign = await ping(t.url, intruder.access_token, id);
      expect(foreign).toEqual(unknown);
      expect(foreign.status).toBe(404);
      for (const method of ['GET', 'DELETE']) {
        const res = await fetch(`${t.url}/mcp`, {
          method,
          headers: {
            accept: 'text/event-stream',
            ...bearer(intruder.access_token),
            'mcp-session-id': id,
            'mcp-protocol-version': '2025-11-25',
          },
        });
        expect(res.status).toBe(404);
        await res.body?.cancel();
      }
      // The owner's session is untouched.
      expect((await ping(t.url, owner.access_token, id)).status).toBe(200);
    });
  });

  describe('stateless mode (the default)', () => {
    it('has no sessions, no GET stream and no resources/subscribe', async () => {
      const ann = await newUser('ann');
      const res = await rawPost(stateless.url, ann.access_token, undefined, INITIALIZE);
      expect(res.status).toBe(200);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      await res.body?.cancel();
      const get = await fetch(`${stateless.url}/mcp`, {
        headers: { accept: 'text/event-stream', ...bearer(ann.access_token) },
      });
      expect(get.status).toBe(405);
      await get.body?.cancel();

      const client = new Client({ name: 'e2e-stateless', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${stateless.url}/mcp`), {
          requestInit: { headers: bearer(ann.access_token) },
        }),
      );
      expect(client.getServerCapabilities()?.resources?.subscribe).toBeUndefined();
      await expect(client.subscribeResource({ uri: userUri(ann) })).rejects.toMatchObject({ code: -32601 });
      await client.close();
    });
  });
});
