/**
 * `npm run bench`: loads N memories through the gateway, then measures where a query_memory's
 * time goes. Each phase uses its own distinct queries, so no phase is helped by the embedding
 * cache of another. Phases:
 *   gateway REST   POST /api/tools query_memory (HTTP + token check + gRPC + everything below)
 *   gateway MCP    tools/call over MCP Streamable HTTP (stock SDK clients in a separate process)
 *   memory gRPC    MemoryService.QueryMemory straight to the service (embed + search + decrypt)
 *   embedding      EmbeddingService.Embed of one query (the model alone)
 *   raw pgvector   the statement the service runs, on the same database, for a precomputed vector
 *   batch ingest   submit_memories, 100 per call, one client (BENCH_BATCH_MEMORIES, 2000)
 * Options (env): BENCH_MEMORIES (10000), BENCH_QUERIES (500), BENCH_LOAD_CONCURRENCY (32),
 * BENCH_MODE=cluster with PICARD_TEST_DATABASE_URL/PICARD_TEST_NATS_URL for PostgreSQL + NATS.
 */
import os from 'node:os';
import { clientPhase, runClientPhases } from './child-job.js';
import { embeddingPb, memoryPb } from '@picard/proto';
import { callerMetadata, callUnary, createGrpcClient, InternalTokens } from '@picard/service-kit';
import { callTool, registerClient, startTestStack, userToken } from '../e2e/support/test-stack.js';
import { closeSql, searchAsService } from './scale-sql.js';
import { memoryText, queryText, rng } from './text-generator.js';
import { measure, summarize, type Summary } from './stats.js';
import { machineInfo, latencyTable, writeResults } from './report.js';

const N = Number(process.env.BENCH_MEMORIES ?? 10_000);
const Q = Number(process.env.BENCH_QUERIES ?? 500);
const LOAD_CONCURRENCY = Number(process.env.BENCH_LOAD_CONCURRENCY ?? 32);
const LIMIT = 10;
const BATCH_MEMORIES = Number(process.env.BENCH_BATCH_MEMORIES ?? 2000);
const BATCH_SIZE = 100;
const mode = process.env.PICARD_TEST_DATABASE_URL ? 'cluster' : 'embedded';
const log = (s: string) => process.stdout.write(`${s}\n`);

async function main() {
  log(
    `Picard query benchmark: ${N} memories, ${Q} queries per phase, ${mode} mode, ${os.cpus().length} cores`,
  );
  const t = await startTestStack();
  const client = await registerClient(t);
  const users = await Promise.all(
    ['bench-a', 'bench-b', 'bench-c', 'bench-d'].map((u) => userToken(t, client, u)),
  );
  const r = rng(42);

  // ---- load: a quarter public, the rest private, spread over four users ----
  const loadStart = performance.now();
  let loaded = 0;
  await measure(N, LOAD_CONCURRENCY, async (i) => {
    const user = users[i % users.length]!;
    const res = await callTool(t, user.access_token, 'submit_memory', {
      text: memoryText(r, i),
      permission: i % 4 === 0 ? 'public' : 'private',
    });
    if (res.status !== 200) throw new Error(`load failed at ${i}: ${res.status} ${res.text}`);
    if (++loaded % 1000 === 0)
      log(`  loaded ${loaded}/${N} (${(loaded / ((performance.now() - loadStart) / 1000)).toFixed(0)}/s)`);
  });
  const loadSeconds = (performance.now() - loadStart) / 1000;
  log(
    `loaded ${N} memories in ${loadSeconds.toFixed(1)} s (${(N / loadSeconds).toFixed(0)}/s, concurrency ${LOAD_CONCURRENCY})`,
  );

  const viewer = users[0]!;
  let offset = 0;
  const queries = () => {
    const base = offset;
    offset += Q + 50;
    return (i: number) => queryText(r, base + i);
  };
  const results: Record<string, Summary> = {};
  const phase = async (name: string, concurrency: number, task: (i: number) => Promise<void>) => {
    await measure(20, 1, (i) => task(Q + i)); // warm-up on queries the phase will not reuse
    results[name] = summarize(await measure(Q, concurrency, task));
    log(
      `${name.padEnd(22)} p50 ${results[name].p50} ms  p95 ${results[name].p95} ms  p99 ${results[name].p99} ms`,
    );
  };

  // ---- through the gateway ----
  for (const concurrency of [1, 8]) {
    const q = queries();
    await phase(`gateway REST c=${concurrency}`, concurrency, async (i) => {
      const res = await callTool(t, viewer.access_token, 'query_memory', { query: q(i), limit: LIMIT });
      if (res.status !== 200 || res.json.result.memories.length !== LIMIT)
        throw new Error(`query failed: ${res.text}`);
    });
  }
  // Stock MCP clients, one per simulated user session, in a process of their own as real hosts are
  // (bench/mcp-clients.mjs): their work must not share the server's event loop.
  const mcpPhases = [
    { name: 'gateway MCP ping c=1', kind: 'ping', concurrency: 1, texts: () => () => '' },
    { name: 'gateway MCP c=1', kind: 'query', concurrency: 1, texts: queries },
    { name: 'gateway MCP c=8', kind: 'query', concurrency: 8, texts: queries },
  ].map((p) => clientPhase(p.name, p.concurrency, p.texts(), Q, { kind: p.kind }));
  await runClientPhases(
    'mcp-clients.mjs',
    { url: t.url, token: viewer.access_token, limit: LIMIT },
    mcpPhases,
    (name, samples) => {
      results[name] = summarize(samples);
      log(
        `${name.padEnd(22)} p50 ${results[name].p50} ms  p95 ${results[name].p95} ms  p99 ${results[name].p99} ms`,
      );
    },
  );

  // ---- batch ingest: one client sending submit_memories batches one after another ----
  const batchStart = performance.now();
  const batches = Math.ceil(BATCH_MEMORIES / BATCH_SIZE);
  await measure(batches, 1, async (b) => {
    const memories = Array.from({ length: BATCH_SIZE }, (_, k) => ({
      text: memoryText(r, N + b * BATCH_SIZE + k),
      permission: 'private',
    }));
    const res = await callTool(t, users[1]!.access_token, 'submit_memories', { memories });
    if (res.status !== 200) throw new Error(`batch ingest failed at ${b}: ${res.status} ${res.text}`);
  });
  const batchSeconds = (performance.now() - batchStart) / 1000;
  const batchIngest = {
    memories: batches * BATCH_SIZE,
    batch_size: BATCH_SIZE,
    per_second: round((batches * BATCH_SIZE) / batchSeconds),
  };
  log(
    `submit_memories: ${batchIngest.memories} memories in batches of ${BATCH_SIZE}: ${batchIngest.per_second}/s`,
  );

  // ---- behind the gateway ----
  const memory = createGrpcClient(
    memoryPb.MemoryServiceClient,
    t.stack.addresses.memory,
    new InternalTokens({ key: t.stack.internalKey, issuer: 'bench' }),
  );
  const metadata = callerMetadata({
    userId: viewer.user_id,
    scopes: ['memories:read'],
    clientId: client.client_id,
  });
  const serverTimings = { embed: [] as number[], search: [] as number[], decrypt: [] as number[] };
  const qg = queries();
  await phase('memory gRPC c=1', 1, async (i) => {
    const res = await callUnary(
      memory.queryMemory.bind(memory),
      { query: qg(i), limit: LIMIT, permission: 0, tags: [], anyTags: [], hybrid: false, mode: 0 },
      metadata,
    );
    serverTimings.embed.push(res.timings!.embedMs);
    serverTimings.search.push(res.timings!.searchMs);
    serverTimings.decrypt.push(res.timings!.decryptMs);
  });
  results['  in service: embed'] = summarize(serverTimings.embed.slice(-Q));
  results['  in service: search'] = summarize(serverTimings.search.slice(-Q));
  results['  in service: decrypt'] = summarize(serverTimings.decrypt.slice(-Q));

  const embedding = createGrpcClient(
    embeddingPb.EmbeddingServiceClient,
    t.stack.addresses.embedding,
    new InternalTokens({ key: t.stack.internalKey, issuer: 'bench' }),
  );
  const qe = queries();
  const vectors: number[][] = [];
  await phase('embedding c=1', 1, async (i) => {
    const res = await callUnary(embedding.embed.bind(embedding), {
      texts: [qe(i)],
      model: '',
      dimensions: 0,
    });
    vectors[i] = res.vectors[0]!.values;
  });

  const raw = await rawSearch(t, viewer.user_id);
  await phase('raw pgvector c=1', 1, async (i) => {
    const rows = await raw(vectors[i % Q]!);
    if (rows !== LIMIT) throw new Error(`raw query returned ${rows} rows`);
  });
  await raw.close();
  memory.close();
  embedding.close();
  await t.stop();

  const p50 = (k: string) => results[k]!.p50;
  const breakdown = {
    embedding_ms: p50('embedding c=1'),
    database_ms: p50('raw pgvector c=1'),
    memory_service_and_grpc_hop_ms: round(
      p50('memory gRPC c=1') - p50('embedding c=1') - p50('raw pgvector c=1'),
    ),
    gateway_http_auth_and_hop_ms: round(p50('gateway REST c=1') - p50('memory gRPC c=1')),
    ratio_end_to_end_over_raw: round(p50('gateway REST c=1') / p50('raw pgvector c=1')),
    picard_share_of_end_to_end: round(
      (p50('gateway REST c=1') - p50('embedding c=1') - p50('raw pgvector c=1')) / p50('gateway REST c=1'),
    ),
  };
  const report = {
    date: new Date().toISOString(),
    mode,
    machine: machineInfo(),
    memories: N,
    queries_per_phase: Q,
    limit: LIMIT,
    load: { seconds: round(loadSeconds), per_second: round(N / loadSeconds), concurrency: LOAD_CONCURRENCY },
    batch_ingest: batchIngest,
    latency_ms: results,
    breakdown_p50: breakdown,
  };
  const name = `query-latency-${mode}`;
  await writeResults(name, report, markdown(report));
  log(`\nbreakdown at p50: ${JSON.stringify(breakdown)}`);
  log(`written to bench/results/${name}.json and .md`);
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The service's own search (the store's statement: visibility + expiry, HNSW with iterative scan) run directly, as the service runs it. */
async function rawSearch(t: Awaited<ReturnType<typeof startTestStack>>, userId: string) {
  const db = t.databases.memory.target;
  const schema = t.schemas.memory;
  const run = async (v: number[]) =>
    (await searchAsService(db, schema, v, { viewer: userId, limit: LIMIT })).length;
  return Object.assign(run, { close: closeSql });
}

function markdown(report: {
  date: string;
  mode: string;
  machine: Record<string, unknown>;
  memories: number;
  queries_per_phase: number;
  load: Record<string, number>;
  batch_ingest: Record<string, number>;
  latency_ms: Record<string, Summary>;
  breakdown_p50: Record<string, number>;
}) {
  const rows = latencyTable(report.latency_ms);
  const b = report.breakdown_p50;
  return `# query_memory latency (${report.mode} mode)

${report.date}; ${report.memories} memories (a quarter public, four users), ${report.queries_per_phase} distinct queries per phase, top-${LIMIT};
machine: ${JSON.stringify(report.machine)}. REST and gRPC phases run in the server's process; the MCP phases'
stock SDK clients run in a process of their own (both share the machine's cores).

Load through the gateway (submit_memory, concurrency ${report.load.concurrency}): ${report.load.per_second} memories/s.
Batch ingest (submit_memories, ${report.batch_ingest.batch_size} per call, one client, after the queries): ${report.batch_ingest.per_second} memories/s.

${rows}

Where the time goes at p50 (single client): embedding ${b.embedding_ms} ms, database ${b.database_ms} ms,
memory-service work + one gRPC hop ${b.memory_service_and_grpc_hop_ms} ms, gateway (HTTP, token check, gRPC hop, JSON) ${b.gateway_http_auth_and_hop_ms} ms.
End-to-end / raw pgvector = ${b.ratio_end_to_end_over_raw}; Picard's own share of the end-to-end p50 = ${Math.round((b.picard_share_of_end_to_end ?? 0) * 100)} %.
`;
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
