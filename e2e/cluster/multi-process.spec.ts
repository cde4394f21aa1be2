import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFakeOpenAi, type FakeOpenAi } from '@picard/service-kit/testing';
import { startComposeCluster, waitUntilServing, type Cluster } from '../support/cluster-processes.js';
import { basic, callTool, registerClient, userToken, within, ADMIN } from '../support/test-stack.js';

const databaseUrl = process.env.PICARD_TEST_DATABASE_URL;
const clusterPass = databaseUrl && process.env.PICARD_TEST_NATS_URL ? describe : describe.skip;

/**
 * Issue #12, part 1: every service as its own process, started from its built main.js as
 * docker-compose.yml configures it, two instances of gateway, memory-, persona- and
 * embedding-service (callers spread over both), all started at once with the gateways first. The
 * MCP slice runs through both gateways alternately. Runs in CI's cluster pass (it needs a
 * PostgreSQL server it may create a database on, and nats-server).
 */
clusterPass('the cluster as separate processes, configured by docker-compose.yml', () => {
  let cluster: Cluster;
  let llm: FakeOpenAi;
  beforeAll(async () => {
    llm = await startFakeOpenAi({ reply: 'From her memories: she takes the night train.' });
    cluster = await startComposeCluster({
      databaseUrl: databaseUrl!,
      instances: { gateway: 2, 'memory-service': 2, 'persona-service': 2, 'embedding-service': 2 },
      admin: ADMIN,
      variables: { LLM_BASE_URL: llm.url, LLM_API_KEY: 'test-key', LLM_MODEL: 'fake-model' },
    });
    await waitUntilServing(cluster, 240_000);
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    await llm?.close();
  }, 60_000);

  it('runs every service of the compose file, two of each stateless one, none exited', () => {
    expect(cluster.processes.map((p) => p.name).sort()).toEqual([
      'auth-service',
      'client-app',
      'embedding-service#1',
      'embedding-service#2',
      'gateway#1',
      'gateway#2',
      'memory-service#1',
      'memory-service#2',
      'persona-service#1',
      'persona-service#2',
    ]);
    expect(cluster.exited()).toEqual([]);
  });

  it('each gRPC service reports its database, outbox backlog and bus on its METRICS_PORT', async () => {
    for (const name of ['auth-service', 'memory-service#1', 'memory-service#2', 'persona-service#1']) {
      const res = await fetch(`${cluster.metricsUrl(name)}/health`);
      const health = (await res.json()) as {
        status: string;
        services: Record<string, { database: string; outbox: { pending: number } }>;
        bus: Record<string, { kind: string; connected: boolean; consumers: Record<string, number> }>;
      };
      const service = name.replace(/#\d$/, '');
      expect({ name, status: res.status, health }).toMatchObject({
        status: 200,
        health: {
          status: 'ok',
          services: { [service]: { database: 'ok', outbox: { pending: expect.any(Number) } } },
          bus: { [service]: { kind: 'nats', connected: true } },
        },
      });
      const metrics = await (await fetch(`${cluster.metricsUrl(name)}/metrics`)).text();
      expect(metrics).toContain(`picard_database_up{service="${service}"} 1`);
      expect(metrics).toContain(`picard_bus_connected{bus="${service}"} 1`);
    }
    // persona-service reads memory events (its answer cache): its consumer's backlog is reported.
    const persona = await (await fetch(`${cluster.metricsUrl('persona-service#1')}/metrics`)).text();
    expect(persona).toMatch(
      /picard_bus_consumer_pending_messages\{bus="persona-service",consumer="[^"]+"\} \d+/,
    );
    // The gateway's /health shows its own bus (its deny-list consumer) beside the services' states.
    const gateway = await (await fetch(`${cluster.gateways[0]}/health`)).json();
    expect(gateway).toMatchObject({ status: 'ok', bus: { gateway: { kind: 'nats', connected: true } } });
  });

  it('the MCP slice through both gateways: tokens, submit, query, share, persona answer, revocation', async () => {
    const [g1, g2] = cluster.gateways.map((url) => ({ url }));
    const client = await registerClient(g1!);
    const ana = await userToken(g2!, client, 'ana');
    const ben = await userToken(g1!, client, 'ben');

    // Written through one gateway, found through the other (each spreads its calls over both memory-services).
    const note = await callTool(g1!, ana.access_token, 'submit_memory', {
      text: 'Ana takes the night train to Vienna every June',
      permission: 'shared',
      shared_with: { users: [ben.user_id] },
    });
    expect(note.status).toBe(200);
    const id = note.json.result.id as string;
    const found = await callTool(g2!, ana.access_token, 'query_memory', { query: 'night train', limit: 5 });
    expect(found.json.result.memories.map((m: { id: string }) => m.id)).toContain(id);

    // Ben sees the share through gateway #1, with a stock MCP client.
    const mcp = new Client({ name: 'cluster-test', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${g1!.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${ben.access_token}` } },
      }),
    );
    const viaMcp = await mcp.callTool({
      name: 'query_memory',
      arguments: { query: 'Vienna trains', limit: 5 },
    });
    expect(JSON.stringify(viaMcp.structuredContent)).toContain(id);
    await mcp.close();

    // Ben asks Ana's persona through gateway #2: persona-service calls memory-service and the LLM.
    const answer = await callTool(g2!, ben.access_token, 'query_user', {
      user_id: ana.user_id,
      prompt: 'How does Ana travel?',
    });
    expect(answer.status).toBe(200);
    expect(answer.json.result.answer).toMatch(/she takes the night train/);
    expect(JSON.stringify(llm.chatRequests().at(-1))).toContain('night train to Vienna');
    // Two questions in a row through one gateway reach both persona-services (round robin).
    for (const prompt of ['Where does Ana go in June?', 'Which city does Ana visit?']) {
      const next = await callTool(g1!, ben.access_token, 'query_user', { user_id: ana.user_id, prompt });
      expect(next.json.result.answer).toMatch(/she takes the night train/);
    }

    // A token revoked at one gateway is refused at the other within a second (events over NATS).
    await fetch(`${g1!.url}/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(client.client_id, client.client_secret),
      },
      body: new URLSearchParams({ token: ben.access_token }),
    });
    expect(
      await within(
        1000,
        async () => (await callTool(g2!, ben.access_token, 'retrieve_memories', {})).status === 401,
      ),
    ).toBe(true);
    expect((await callTool(g1!, ben.access_token, 'retrieve_memories', {})).status).toBe(401);
    expect(cluster.exited()).toEqual([]);
  });

  it('no lost updates across gateways: one version, one winner; one refresh token, one new token', async () => {
    const [g1, g2] = cluster.gateways.map((url) => ({ url }));
    const client = await registerClient(g1!);
    const cleo = await userToken(g1!, client, 'cleo');
    const m = (
      await callTool(g1!, cleo.access_token, 'submit_memory', { text: 'draft one', permission: 'private' })
    ).json.result;
    const writes = await Promise.all(
      [g1!, g2!].map((g, i) =>
        callTool(g, cleo.access_token, 'update_memory', {
          memory_id: m.id,
          text: `draft from gateway ${i + 1}`,
          expected_updated_at: m.updated_at,
        }),
      ),
    );
    expect(writes.map((w) => w.status).sort()).toEqual([200, 409]);
    const lost = writes.find((w) => w.status === 409)!;
    expect(lost.json).toMatchObject({ error: 'conflict', field: 'data.expected_updated_at' });
    const won = writes.find((w) => w.status === 200)!.json.result;
    expect((await callTool(g2!, cleo.access_token, 'get_memory', { memory_id: m.id })).json.result.text).toBe(
      won.text,
    );

    // The same refresh token presented at both gateways at once: exactly one exchange succeeds.
    const refresh = (g: { url: string }) =>
      fetch(`${g.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(client.client_id, client.client_secret),
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cleo.refresh_token }),
      }).then((r) => r.status);
    expect((await Promise.all([refresh(g1!), refresh(g2!), refresh(g1!)])).sort()).toEqual([200, 400, 400]);
    expect(cluster.exited()).toEqual([]);
  });
});
