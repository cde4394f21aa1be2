import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startFakeOpenAi, type FakeOpenAi } from '@picard/service-kit/testing';
import { startComposeCluster, waitUntilServing, type Cluster } from '../support/cluster-processes.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { basic, callTool, registerClient, userToken, within, ADMIN } from '../support/test-stack.js';

const clusterPass =
  process.env.PICARD_TEST_DATABASE_URL && process.env.PICARD_TEST_NATS_URL ? describe : describe.skip;

/** How long NATS stays down in the bus outage test (the issue asks for 30 s). */
const NATS_OUTAGE_MS = 30_000;
/** How long the embedder stays down: gRPC's default pause before the next reconnection is ~6 s by then. */
const EMBEDDER_OUTAGE_MS = 12_000;

/**
 * Issue #12, part 2: the multi-process cluster (every service its own process, two gateways and two
 * memory-services, on a PostgreSQL server and a NATS server of this suite's own, so restarting them
 * disturbs no other suite) under faults: a memory-service killed mid-import, the embedder killed,
 * NATS down for 30 s, PostgreSQL restarted under load. Nothing acknowledged may be lost, nothing
 * written twice, no process may exit, and every failure must say `unavailable`.
 */
clusterPass('the cluster under faults (reliability)', () => {
  let pg: PrivatePostgres;
  let cluster: Cluster;
  let llm: FakeOpenAi;
  let client: { client_id: string; client_secret: string };
  const gateway = (i: number) => ({ url: cluster.gateways[i]! });

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    llm = await startFakeOpenAi({ reply: 'An answer from the memories.' });
    cluster = await startComposeCluster({
      databaseUrl: pg.url,
      instances: { gateway: 2, 'memory-service': 2 },
      admin: ADMIN,
      variables: {
        LLM_BASE_URL: llm.url,
        LLM_API_KEY: 'test-key',
        LLM_MODEL: 'fake-model',
        // Memories stored while the embedder is down get their vectors within a second of its return.
        MEMORY_EMBEDDING_RETRY_SECONDS: '1',
      },
    });
    await waitUntilServing(cluster, 240_000);
    client = await registerClient(gateway(0));
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    await pg?.stop();
    await llm?.close();
  }, 90_000);

  /** One statement on the cluster's database (a fresh connection: PostgreSQL may have restarted). */
  async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    const { default: pgLib } = await import('pg');
    const c = new pgLib.Client({ connectionString: cluster.databaseUrl });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  }
  const revoke = async (token: string) =>
    (
      await fetch(`${gateway(0).url}/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(client.client_id, client.client_secret),
        },
        body: new URLSearchParams({ token }),
      })
    ).status;
  const memoriesOf = async (userId: string) =>
    Number(
      (await sql<{ n: string }>('SELECT count(*) AS n FROM memory.memories WHERE user_id = $1', [userId]))[0]!
        .n,
    );

  it('kill -9 of a memory-service during imports (2,000 and 1,000 memories): both complete, every memory exactly once', async () => {
    const users = await Promise.all(['ivo', 'ula'].map((n) => userToken(gateway(0), client, n)));
    const sizes = [2000, 1000];
    const file = (who: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        JSON.stringify({ text: `${who} imported note ${i} on topic ${i % 37}` }),
      ).join('\n');
    // Two imports at once through one gateway: its round-robin channel gives each its own
    // memory-service, so the killed instance is certainly in the middle of one of them.
    const imports = users.map((u, k) =>
      callTool(gateway(0), u.access_token, 'import_memories', {
        format: 'ndjson',
        data: file(u.user_id, sizes[k]!),
      }),
    );
    const midway = await within(120_000, async () => {
      const counts = await Promise.all(users.map((u) => memoriesOf(u.user_id)));
      return counts.every((n) => n >= 300);
    });
    expect(midway).toBe(true);
    await cluster.kill('memory-service#1', 'SIGKILL');
    const results = await Promise.all(imports).finally(() => cluster.restart('memory-service#1'));
    for (const [k, r] of results.entries()) {
      expect({ status: r.status, body: r.status === 200 ? r.json.result.imported : r.text }).toEqual({
        status: 200,
        body: sizes[k],
      });
    }
    for (const [k, u] of users.entries()) {
      expect(await memoriesOf(u.user_id)).toBe(sizes[k]);
      const exported = await callTool(gateway(1), u.access_token, 'export_memories', { format: 'ndjson' });
      const texts = (exported.json.result.data as string).split('\n').filter(Boolean);
      expect(new Set(texts.map((t) => (JSON.parse(t) as { text: string }).text)).size).toBe(sizes[k]);
    }

    // The killed instance is back on the same database and serves the same memories.
    await waitUntilServing(cluster, 60_000);
    const afterRestart = await Promise.all(
      [0, 1, 0, 1].map((g) =>
        callTool(gateway(g), users[0]!.access_token, 'query_memory', {
          query: 'imported note on topic 5',
          limit: 3,
        }),
      ),
    );
    expect(afterRestart.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(cluster.exited()).toEqual([]);
  }, 300_000);

  it('embedding-service killed: writes are stored pending and get their vectors when it returns', async () => {
    const ana = await userToken(gateway(0), client, 'ana');
    await cluster.kill('embedding-service', 'SIGKILL');
    const killedAt = Date.now();
    const texts = ['The harbour crane lifts blue containers', 'Grandmother bakes rye bread on Sundays'];
    const ids: string[] = [];
    try {
      for (const [i, text] of texts.entries()) {
        const res = await callTool(gateway(i % 2), ana.access_token, 'submit_memory', {
          text,
          permission: 'private',
        });
        expect({ status: res.status, body: res.text }).toMatchObject({ status: 200 });
        ids.push(res.json.result.id);
      }
      const pending = await sql<{ n: string }>(
        'SELECT count(*) AS n FROM memory.memories WHERE id = ANY($1) AND embedding IS NULL',
        [ids],
      );
      expect(Number(pending[0]!.n)).toBe(2);
      // Keyword search needs no vector: the memories are findable at once.
      const byWord = await callTool(gateway(1), ana.access_token, 'query_memory', {
        query: 'rye bread',
        mode: 'keyword',
      });
      expect({ status: byWord.status, body: byWord.text }).toMatchObject({ status: 200 });
      expect(byWord.json.result.memories.map((m: { id: string }) => m.id)).toContain(ids[1]);
      // Down long enough for gRPC's default reconnection pauses to grow past the bound checked below.
      await new Promise((r) => setTimeout(r, EMBEDDER_OUTAGE_MS - (Date.now() - killedAt)));
    } finally {
      await cluster.restart('embedding-service');
    }
    const embedded = await within(30_000, async () => {
      const rows = await sql<{ n: string }>(
        'SELECT count(*) AS n FROM memory.memories WHERE id = ANY($1) AND embedding IS NOT NULL',
        [ids],
      );
      return Number(rows[0]!.n) === 2;
    });
    expect(embedded).toBe(true);
    // Every memory-service searches by meaning again within seconds, not only the one whose retry
    // filled the vectors: four searches through both gateways reach both instances (round robin).
    const byMeaning = () =>
      Promise.all(
        [0, 1, 0, 1].map((g) =>
          callTool(gateway(g), ana.access_token, 'query_memory', {
            query: 'shipping port machinery',
            mode: 'vector',
            limit: 1,
          }),
        ),
      );
    let found: unknown[] = [];
    await within(3_000, async () => {
      found = (await byMeaning()).map((r) => r.json?.result?.memories?.[0]?.id ?? `${r.status} ${r.text}`);
      return found.every((id) => id === ids[0]);
    });
    expect(found).toEqual([ids[0], ids[0], ids[0], ids[0]]);
    expect(cluster.exited()).toEqual([]);
  }, 120_000);

  it('NATS down for 30 s while writes continue: all succeed, and every consumer catches up afterwards', async () => {
    const dan = await userToken(gateway(0), client, 'dan');
    const eve = await userToken(gateway(0), client, 'eve');
    const eveLeaving = await userToken(gateway(1), client, 'eve');
    await callTool(gateway(0), dan.access_token, 'submit_memory', {
      text: 'Dan grows tomatoes on his balcony',
      permission: 'public',
    });
    const ask = (g: number) =>
      callTool(gateway(g), eve.access_token, 'query_user', {
        user_id: dan.user_id,
        prompt: 'Where does Dan live?',
      });
    expect((await ask(0)).status).toBe(200);
    const asked = llm.chatRequests().length;
    expect((await ask(1)).status).toBe(200);
    expect(llm.chatRequests().length).toBe(asked); // answered from the persona cache

    await cluster.nats.stop();
    const writes: number[] = [];
    let held: number;
    try {
      const started = Date.now();
      for (let n = 0; Date.now() - started < NATS_OUTAGE_MS; n++) {
        const res = await callTool(gateway(n % 2), dan.access_token, 'submit_memory', {
          text: n === 0 ? 'Dan moved to Lisbon last spring' : `Dan's outage note ${n}`,
          permission: 'public',
        });
        writes.push(res.status);
        // Revoked at gateway #1 while the bus is down: #2 learns of it only through the bus.
        if (n === 3) expect(await revoke(eveLeaving.access_token)).toBe(200);
        await new Promise((r) => setTimeout(r, 500));
      }
      // The events wait in the services' outboxes.
      held = Number((await sql<{ n: string }>('SELECT count(*) AS n FROM memory.outbox'))[0]!.n);
      // Health says so: the service degraded (bus gone, backlog growing), the gateway still serving.
      const memory = await fetch(`${cluster.metricsUrl('memory-service#1')}/health`);
      expect(memory.status).toBe(503);
      expect(await memory.json()).toMatchObject({
        status: 'degraded',
        services: { 'memory-service': { database: 'ok', outbox: { pending: expect.any(Number) } } },
        bus: { 'memory-service': { connected: false } },
      });
      const front = await fetch(`${gateway(1).url}/health`);
      expect(front.status).toBe(200);
      expect(await front.json()).toMatchObject({ bus: { gateway: { connected: false } } });
    } finally {
      await cluster.nats.start();
    }
    expect(writes.length).toBeGreaterThan(20);
    expect(writes.every((s) => s === 200)).toBe(true);
    expect(held).toBeGreaterThanOrEqual(writes.length);
    const drained = await within(30_000, async () => {
      const rows = await sql<{ n: string }>(
        'SELECT (SELECT count(*) FROM memory.outbox) + (SELECT count(*) FROM auth.outbox) AS n',
      );
      return Number(rows[0]!.n) === 0;
    });
    expect(drained).toBe(true);
    // Nothing lost, nothing twice: the stream holds exactly one memory.created per memory ever
    // written in this suite (a relay that re-sends a row after a crash is deduplicated by its id).
    const nc = await connect({ servers: cluster.nats.url });
    try {
      const stream = await (
        await jetstreamManager(nc)
      ).streams.info('PICARD', { subjects_filter: 'memory.created' });
      const written = Number((await sql<{ n: string }>('SELECT count(*) AS n FROM memory.memories'))[0]!.n);
      expect(stream.state.subjects?.['memory.created']).toBe(written);
    } finally {
      await nc.close();
    }
    // The revocation reached the other gateway, and the persona caches dropped Dan's stale answer.
    expect(
      await within(
        10_000,
        async () =>
          (await callTool(gateway(1), eveLeaving.access_token, 'retrieve_memories', {})).status === 401,
      ),
    ).toBe(true);
    const fresh = await within(10_000, async () => {
      const before = llm.chatRequests().length;
      await ask(1);
      return llm.chatRequests().length > before;
    });
    expect(fresh).toBe(true);
    expect(JSON.stringify(llm.chatRequests().at(-1))).toContain('Lisbon');
    expect(cluster.exited()).toEqual([]);
  }, 180_000);

  it('PostgreSQL restarted under load: requests fail fast with `unavailable`, then the services reconnect by themselves', async () => {
    const kim = await userToken(gateway(0), client, 'kim');
    const outcomes: { status: number; error?: string; message?: string; ms: number; at: number }[] = [];
    const acknowledged: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const t0 = Date.now();
        const res =
          i % 2
            ? await callTool(gateway(w % 2), kim.access_token, 'query_memory', {
                query: 'load note',
                limit: 5,
              })
            : await callTool(gateway(w % 2), kim.access_token, 'submit_memory', {
                text: `load note ${w}-${i}`,
                permission: 'private',
              });
        outcomes.push({
          status: res.status,
          error: res.json?.error,
          message: res.json?.message,
          ms: Date.now() - t0,
          at: t0,
        });
        if (i % 2 === 0 && res.status === 200) acknowledged.push(res.json.result.id);
        if (res.status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
    };
    const load = [0, 1, 2, 3].map(worker);
    await new Promise((r) => setTimeout(r, 2000));
    const restartAt = Date.now();
    await pg.restart(3000);
    const backAt = Date.now();
    // Load goes on until every worker has succeeded again (or 60 s pass).
    await within(60_000, async () => {
      const since = outcomes.filter((o) => o.at > backAt);
      return (
        since.filter((o) => o.status === 200).length >= 20 && since.slice(-8).every((o) => o.status === 200)
      );
    });
    stop = true;
    await Promise.all(load);

    const during = outcomes.filter((o) => o.at >= restartAt);
    const failures = during.filter((o) => o.status !== 200);
    // The outage was seen, and said so: 503 unavailable, never a 500, never a hang.
    expect(failures.length).toBeGreaterThan(0);
    const said = new Set(failures.map((o) => `${o.status} ${o.error}`));
    expect({ said: [...said], messages: [...new Set(failures.map((o) => o.message))] }).toMatchObject({
      said: ['503 unavailable'],
    });
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(15_000);
    expect(outcomes.slice(-8).every((o) => o.status === 200)).toBe(true);
    expect(cluster.exited()).toEqual([]);
    // Every acknowledged write is stored.
    const stored = await sql<{ n: string }>('SELECT count(*) AS n FROM memory.memories WHERE id = ANY($1)', [
      acknowledged,
    ]);
    expect(Number(stored[0]!.n)).toBe(acknowledged.length);
  }, 180_000);
});
