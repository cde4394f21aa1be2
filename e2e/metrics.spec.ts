import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { memoryPb } from '@picard/proto';
import { watchBus } from '@picard/service-kit';
import {
  bearer,
  callTool,
  registerClient,
  request,
  startTestStack,
  userToken,
  type TestStack,
} from './support/test-stack.js';

/** The value of one series in Prometheus' text format (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    if (wanted.every((w) => labelText.split(',').includes(w))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

/**
 * Issue #12, part 5: `/metrics` (prom-client). In one process (embedded mode and these suites)
 * the gateway's endpoint shows every service: tool calls per interface and outcome, gRPC calls
 * per method and code, outbox backlog, embedder queue, process figures.
 */
describe('metrics', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(() => t.stop());

  it('counts tool calls per interface and outcome, and gRPC calls per method and code', async () => {
    const client = await registerClient(t);
    const ana = await userToken(t, client, 'ana');
    expect(
      (
        await callTool(t, ana.access_token, 'submit_memory', {
          text: 'metrics are fun',
          permission: 'private',
        })
      ).status,
    ).toBe(200);
    expect((await callTool(t, ana.access_token, 'query_memory', { query: 'fun' })).status).toBe(200);
    expect((await callTool(t, ana.access_token, 'query_memory', { query: 42 })).status).toBe(400);
    const mcp = new Client({ name: 'metrics-test', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: bearer(ana.access_token) },
      }),
    );
    await mcp.callTool({ name: 'query_memory', arguments: { query: 'fun' } });
    await mcp.close();

    const res = await request('GET', `${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const m = res.text;
    const tool = (tool: string, transport: string, outcome: string) =>
      sample(m, 'picard_tool_duration_seconds_count', { tool, transport, outcome });
    expect(tool('submit_memory', 'rest', 'ok')).toBe(1);
    expect(tool('query_memory', 'rest', 'ok')).toBe(1);
    expect(tool('query_memory', 'rest', 'invalid_argument')).toBe(1);
    expect(tool('query_memory', 'mcp', 'ok')).toBe(1);
    const grpc = (service: string, method: string, code: string) =>
      sample(m, 'picard_grpc_server_duration_seconds_count', { service, method, code });
    // Two searches reached memory-service; the refused one never left the gateway.
    expect(grpc('picard.v1.MemoryService', 'QueryMemory', 'OK')).toBe(2);
    expect(grpc('picard.v1.MemoryService', 'SubmitMemory', 'OK')).toBe(1);
    expect(grpc('picard.v1.EmbeddingService', 'Embed', 'OK')).toBeGreaterThanOrEqual(1);
    expect(grpc('picard.v1.AuthService', 'IssueUserToken', 'OK')).toBe(1);
    // Outbox backlog per service, embedder queue, and the process.
    for (const service of ['auth-service', 'memory-service', 'persona-service'])
      expect(sample(m, 'picard_outbox_pending_events', { service })).toBeGreaterThanOrEqual(0);
    expect(
      sample(m, 'picard_outbox_oldest_event_age_seconds', { service: 'memory-service' }),
    ).toBeGreaterThanOrEqual(0);
    expect(sample(m, 'picard_embedding_queue_depth', { provider: 'offline' })).toBe(0);
    // The memory's text and the query's (the second 'fun' comes from the embedder's cache).
    expect(sample(m, 'picard_embedding_batch_texts_count', { provider: 'offline' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sample(m, 'picard_embedding_batch_texts_sum', { provider: 'offline' })).toBe(2);
    expect(sample(m, 'picard_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts a call refused for its internal token under its method, as UNAUTHENTICATED', async () => {
    const count = async () =>
      sample((await request('GET', `${t.url}/metrics`)).text, 'picard_grpc_server_duration_seconds_count', {
        service: 'picard.v1.MemoryService',
        method: 'GetMemory',
        code: 'UNAUTHENTICATED',
      }) ?? 0;
    const before = await count();
    const bare = new memoryPb.MemoryServiceClient(t.stack.addresses.memory, credentials.createInsecure());
    try {
      const err = await new Promise<ServiceError | null>((resolve) =>
        bare.getMemory({ memoryId: '00000000-0000-4000-8000-000000000000' }, (e) => resolve(e)),
      );
      expect(err?.code).toBe(grpcStatus.UNAUTHENTICATED);
    } finally {
      bare.close();
    }
    expect(await count()).toBe(before + 1);
  });

  it("reports each service's database and outbox and the bus's consumers in /health and /metrics", async () => {
    // npm start and the standalone services watch the bus they open; this suite opens its own.
    const unwatch = watchBus('e2e', t.bus);
    try {
      const health = await request('GET', `${t.url}/health`);
      expect(health.status).toBe(200);
      for (const service of ['auth-service', 'memory-service', 'persona-service'])
        expect(health.json.databases[service]).toMatchObject({
          database: 'ok',
          outbox: { pending: expect.any(Number), oldest_age_seconds: expect.any(Number) },
        });
      expect(health.json.bus.e2e).toMatchObject({ connected: true, consumers: expect.any(Object) });
      // The gateways's deny-list and the persona cache consume events: their backlogs are listed.
      expect(Object.keys(health.json.bus.e2e.consumers).length).toBeGreaterThanOrEqual(2);

      const m = (await request('GET', `${t.url}/metrics`)).text;
      expect(sample(m, 'picard_database_up', { service: 'memory-service' })).toBe(1);
      expect(sample(m, 'picard_bus_connected', { bus: 'e2e' })).toBe(1);
      const consumer = Object.keys(health.json.bus.e2e.consumers)[0]!;
      expect(
        sample(m, 'picard_bus_consumer_pending_messages', { bus: 'e2e', consumer }),
      ).toBeGreaterThanOrEqual(0);
    } finally {
      unwatch();
    }
  });
});
