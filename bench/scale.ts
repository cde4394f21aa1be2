/**
 * `npm run bench:scale`: search at scale (issue #4). Loads N memories through the batch tool
 * (`submit_memories` over REST), then measures in the same run:
 *   - ingest rate against the embedder's own batch throughput (the ceiling);
 *   - query_memory p50/p95/p99 through the gateway at concurrency 1 and 16, and the p50 breakdown
 *     (embedding alone, the pgvector statement alone, everything Picard adds around them), the
 *     one-client phases interleaved query by query;
 *   - recall@10 of the HNSW index against an exact scan, with the visibility filter and with extra
 *     filters (one other user's public memories; a rare tag), over several ef_search values;
 *   - the embedding cache (a repeated query) and hybrid ranking against plain vector ranking.
 * Options (env): BENCH_MEMORIES (100000), BENCH_QUERIES (300), BENCH_RECALL_QUERIES (200),
 * BENCH_BATCH (200 memories per submit_memories call), BENCH_LOAD_CONCURRENCY (2);
 * PICARD_TEST_DATABASE_URL / PICARD_TEST_NATS_URL select PostgreSQL + NATS (cluster mode).
 */
import os from 'node:os';
import { memoryPb } from '@picard/proto';
import { callerMetadata, callUnary, createGrpcClient, InternalTokens } from '@picard/service-kit';
import { callTool, registerClient, startTestStack, userToken } from '../e2e/support/test-stack.js';
import { clientPhase, runClientPhases, startIpcClient } from './child-job.js';
import { measureEmbedderCeiling } from './embedder-ceiling.js';
import { closeSql, exactSearch, searchAsService, searchAt } from './scale-sql.js';
import { hybridEval } from './hybrid-eval.js';
import { memoryText, queryText, RARE_TAG_EVERY, rng, scaleMemory } from './text-generator.js';
import { measure, summarize, type Summary } from './stats.js';
import { machineInfo, latencyTable, writeResults } from './report.js';

const N = Number(process.env.BENCH_MEMORIES ?? 100_000);
const Q = Number(process.env.BENCH_QUERIES ?? 300);
const RQ = Number(process.env.BENCH_RECALL_QUERIES ?? 200);
const BATCH = Number(process.env.BENCH_BATCH ?? 200);
const LOAD_CONCURRENCY = Number(process.env.BENCH_LOAD_CONCURRENCY ?? 2);
const LIMIT = 10;
const mode = process.env.PICARD_TEST_DATABASE_URL ? 'cluster' : 'embedded';
const log = (s: string) => process.stdout.write(`${s}\n`);
const round = (x: number) => Math.round(x * 1000) / 1000;

async function main() {
  log(
    `Picard scale benchmark: ${N} memories, ${mode} mode, ${os.cpus().length} cores, node ${process.version}`,
  );
  const t = await startTestStack();
  const client = await registerClient(t);
  const users = await Promise.all(
    ['scale-a', 'scale-b', 'scale-c', 'scale-d'].map((u) => userToken(t, client, u)),
  );
  const r = rng(7);

  // ---- the ceiling: the embedder alone, batch 64 (its provider batch), one call at a time ----
  const ceiling = await measureEmbedderCeiling({
    address: t.stack.addresses.embedding,
    tokens: new InternalTokens({ key: t.stack.internalKey, issuer: 'bench' }),
    batchSize: 64,
    texts: 512,
  });
  log(`embedder ceiling (batch 64): ${ceiling.textsPerSecond.toFixed(1)} texts/s`);

  // ---- load through submit_memories: a quarter public; every 50th carries a rare tag ----
  const loadStart = performance.now();
  let loaded = 0;
  const calls = Math.ceil(N / BATCH);
  await measure(calls, LOAD_CONCURRENCY, async (c) => {
    const user = users[c % users.length]!;
    const memories = Array.from({ length: Math.min(BATCH, N - c * BATCH) }, (_, k) => {
      const i = c * BATCH + k;
      return scaleMemory(memoryText(r, i), i);
    });
    const res = await callTool(t, user.access_token, 'submit_memories', { memories });
    if (res.status !== 200)
      throw new Error(`load failed at call ${c}: ${res.status} ${res.text.slice(0, 300)}`);
    loaded += memories.length;
    if (loaded % 5000 < BATCH)
      log(`  loaded ${loaded}/${N} (${(loaded / ((performance.now() - loadStart) / 1000)).toFixed(1)}/s)`);
  });
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const ingest = N / loadSeconds;
  log(
    `loaded ${N} in ${loadSeconds.toFixed(0)} s: ${ingest.toFixed(1)}/s = ${((100 * ingest) / ceiling.textsPerSecond).toFixed(0)} % of the embedder ceiling`,
  );
  const ceilingAfter = await measureEmbedderCeiling({
    address: t.stack.addresses.embedding,
    tokens: new InternalTokens({ key: t.stack.internalKey, issuer: 'bench' }),
    batchSize: 64,
    texts: 512,
  });

  const viewer = users[0]!;
  const other = users[1]!;
  let offset = 0;
  // Texts are drawn once per phase: queryText consumes the shared generator, so calling it again
  // for the same index would give another text.
  const queries = (n: number) => {
    const texts = Array.from({ length: n + 50 }, (_, i) => queryText(r, offset + i));
    offset += n + 50;
    return (i: number) => texts[i]!;
  };
  const results: Record<string, Summary> = {};

  const memory = createGrpcClient(
    memoryPb.MemoryServiceClient,
    t.stack.addresses.memory,
    new InternalTokens({ key: t.stack.internalKey, issuer: 'bench' }),
  );
  const md = (userId: string) =>
    callerMetadata({ userId, scopes: ['memories:read'], clientId: client.client_id });
  const queryGrpc = (
    query: string,
    extra: Partial<memoryPb.QueryMemoryRequest> = {},
    userId = viewer.user_id,
  ) =>
    callUnary(
      memory.queryMemory.bind(memory),
      { query, limit: LIMIT, permission: 0, tags: [], anyTags: [], hybrid: false, mode: 0, ...extra },
      md(userId),
    );
  const { embeddingPb } = await import('@picard/proto');
  const embedding = createGrpcClient(
    embeddingPb.EmbeddingServiceClient,
    t.stack.addresses.embedding,
    new InternalTokens({ key: t.stack.internalKey, issuer: 'bench' }),
  );
  const embed = async (text: string) =>
    (await callUnary(embedding.embed.bind(embedding), { texts: [text], model: '', dimensions: 0 }))
      .vectors[0]!.values;
  const db = t.databases.memory.target;
  const schema = t.schemas.memory;

  // ---- one client: through the gateway (from a client process of its own, bench/rest-client-ipc.mjs:
  // a real client's HTTP work does not share the services' event loop), memory-service's
  // QueryMemory, the embedder alone and the pgvector statement alone. Interleaved query by query,
  // in turn, so that whatever slows the machine for a while (PostgreSQL's autovacuum after the
  // load, another tenant, V8 still optimising) weighs on the four alike: Picard's share is the
  // difference of their p50s. Each step has texts of its own (no cache hit). ----
  const oneClient = await startIpcClient('rest-client-ipc.mjs', {
    url: t.url,
    token: viewer.access_token,
    limit: LIMIT,
  });
  const samples = {
    gateway: [] as number[],
    grpc: [] as number[],
    embedding: [] as number[],
    raw: [] as number[],
  };
  const timings = { embed: [] as number[], search: [] as number[], decrypt: [] as number[] };
  const texts = { gateway: queries(Q), grpc: queries(Q), embedding: queries(Q) };
  const WARM_UP = 20;
  const steps = [
    async (i: number, keep: boolean) => {
      const ms = await oneClient.run(texts.gateway(i));
      if (keep) samples.gateway.push(ms);
    },
    async (i: number, keep: boolean) => {
      const t0 = performance.now();
      const res = await queryGrpc(texts.grpc(i));
      if (!keep) return;
      samples.grpc.push(performance.now() - t0);
      timings.embed.push(res.timings!.embedMs);
      timings.search.push(res.timings!.searchMs);
      timings.decrypt.push(res.timings!.decryptMs);
    },
    async (i: number, keep: boolean) => {
      const t0 = performance.now();
      const vector = await embed(texts.embedding(i));
      const t1 = performance.now();
      const rows = await searchAsService(db, schema, vector, { viewer: viewer.user_id, limit: LIMIT });
      if (rows.length !== LIMIT) throw new Error(`raw query returned ${rows.length} rows`);
      if (!keep) return;
      samples.embedding.push(t1 - t0);
      samples.raw.push(performance.now() - t1);
    },
  ];
  // The warm-up's texts lie past the measured ones (queries() draws 50 spare).
  for (let n = 0; n < WARM_UP + Q; n++) {
    const keep = n >= WARM_UP;
    const i = keep ? n - WARM_UP : Q + n;
    for (let s = 0; s < steps.length; s++) await steps[(n + s) % steps.length]!(i, keep);
  }
  oneClient.stop();
  const record = (name: string, values: number[]) => {
    results[name] = summarize(values);
    log(
      `${name.padEnd(26)} p50 ${results[name].p50} ms  p95 ${results[name].p95} ms  p99 ${results[name].p99} ms`,
    );
  };
  record('gateway REST c=1', samples.gateway);
  record('memory gRPC c=1', samples.grpc);
  record('  in service: embed', timings.embed);
  record('  in service: search', timings.search);
  record('  in service: decrypt', timings.decrypt);
  record('embedding c=1', samples.embedding);
  record('raw pgvector c=1', samples.raw);

  // ---- sixteen clients through the gateway, from a client process of its own (bench/rest-clients.mjs) ----
  await runClientPhases(
    'rest-clients.mjs',
    { url: t.url, token: viewer.access_token, limit: LIMIT },
    [clientPhase('gateway REST c=16', 16, queries(Q), Q)],
    record,
  );

  // ---- the cache: the same query twice; the second embeds nothing ----
  const repeat: number[] = [];
  for (let i = 0; i < 50; i++) {
    const text = `cache probe ${i}: ${queryText(r, 10_000_000 + i)}`;
    await queryGrpc(text);
    repeat.push((await queryGrpc(text)).timings!.embedMs);
  }
  results['repeated query: embed'] = summarize(repeat);

  // ---- recall@10 against an exact scan, with filters, over ef_search ----
  const qr = queries(RQ);
  const recallVectors = await Promise.all(Array.from({ length: RQ }, (_, i) => embed(qr(i))));
  const cases = {
    'visible to the viewer': { viewer: viewer.user_id },
    "another user's public memories": { viewer: viewer.user_id, owner: other.user_id },
    'rare tag (2 %)': { viewer: viewer.user_id, tag: 'rare' },
  };
  const recall: Record<string, Record<string, { recall: number; full_pages: number; p50_ms: number }>> = {};
  for (const [name, filter] of Object.entries(cases)) {
    recall[name] = {};
    const exact = await Promise.all(
      recallVectors.map((v) => exactSearch(db, schema, v, { ...filter, limit: LIMIT })),
    );
    for (const ef of [40, 100, 200]) {
      let hit = 0;
      let want = 0;
      let full = 0;
      const lat: number[] = [];
      for (const [i, v] of recallVectors.entries()) {
        const t0 = performance.now();
        const got = await searchAt(db, schema, v, { ...filter, limit: LIMIT, efSearch: ef });
        lat.push(performance.now() - t0);
        const truth = new Set(exact[i]);
        hit += got.filter((id) => truth.has(id)).length;
        want += truth.size;
        if (got.length === Math.min(LIMIT, truth.size)) full++;
      }
      recall[name][`ef_search=${ef}`] = {
        recall: round(hit / want),
        full_pages: round(full / RQ),
        p50_ms: summarize(lat).p50,
      };
      log(`recall@10 ${name.padEnd(32)} ef_search=${ef}: ${(hit / want).toFixed(3)}`);
    }
  }
  // The service's own vector path (whatever ef_search it picks) against the exact scan: vector mode
  // explicitly, since the default (hybrid) reorders by keywords and is no recall of the vector index.
  let serviceHit = 0;
  let serviceWant = 0;
  const exactVisible = await Promise.all(
    recallVectors.map((v) => exactSearch(db, schema, v, { viewer: viewer.user_id, limit: LIMIT })),
  );
  for (let i = 0; i < RQ; i++) {
    const res = await queryGrpc(qr(i), { mode: memoryPb.SearchMode.SEARCH_MODE_VECTOR });
    const truth = new Set(exactVisible[i]);
    serviceHit += res.memories.filter((m) => truth.has(m.id)).length;
    serviceWant += truth.size;
  }
  const serviceRecall = round(serviceHit / serviceWant);
  log(`recall@10 through QueryMemory: ${serviceRecall}`);

  const hybrid = await hybridEval({
    memory,
    md,
    queryText: queries(100),
    limit: LIMIT,
    queries: 100,
    viewer: viewer.user_id,
  });
  log(`hybrid: ${JSON.stringify(hybrid)}`);

  memory.close();
  embedding.close();
  await closeSql();
  await t.stop();

  const p50 = (k: string) => results[k]!.p50;
  const picard = p50('gateway REST c=1') - p50('embedding c=1') - p50('raw pgvector c=1');
  const report = {
    date: new Date().toISOString(),
    mode,
    machine: machineInfo(),
    memories: N,
    queries_per_phase: Q,
    limit: LIMIT,
    ingest: {
      seconds: Math.round(loadSeconds),
      per_second: round(ingest),
      batch: BATCH,
      concurrency: LOAD_CONCURRENCY,
      embedder_ceiling_per_second: {
        before: round(ceiling.textsPerSecond),
        after: round(ceilingAfter.textsPerSecond),
      },
      share_of_ceiling: round(ingest / ((ceiling.textsPerSecond + ceilingAfter.textsPerSecond) / 2)),
    },
    latency_ms: results,
    overhead_p50: {
      end_to_end_ms: p50('gateway REST c=1'),
      embedding_ms: p50('embedding c=1'),
      pgvector_ms: p50('raw pgvector c=1'),
      picard_ms: round(picard),
      picard_share: round(picard / p50('gateway REST c=1')),
    },
    recall_at_10: recall,
    recall_at_10_through_service: serviceRecall,
    hybrid,
  };
  const name = `scale-${mode}-${N}`;
  await writeResults(name, report, markdown(report));
  log(`written to bench/results/${name}.json and .md`);
}

function markdown(r: {
  date: string;
  mode: string;
  machine: Record<string, unknown>;
  memories: number;
  queries_per_phase: number;
  ingest: Record<string, unknown> & {
    per_second: number;
    share_of_ceiling: number;
    embedder_ceiling_per_second: { before: number; after: number };
  };
  latency_ms: Record<string, Summary>;
  overhead_p50: Record<string, number>;
  recall_at_10: Record<string, Record<string, { recall: number; full_pages: number; p50_ms: number }>>;
  recall_at_10_through_service: number;
  hybrid: Record<string, unknown>;
}) {
  const lat = latencyTable(r.latency_ms);
  const rec = Object.entries(r.recall_at_10)
    .flatMap(([name, byEf]) =>
      Object.entries(byEf).map(
        ([ef, v]) => `| ${name} | ${ef} | ${v.recall} | ${v.full_pages} | ${v.p50_ms} |`,
      ),
    )
    .join('\n');
  const o = r.overhead_p50;
  return `# Search at scale (${r.mode} mode, ${r.memories} memories)

${r.date}; machine: ${JSON.stringify(r.machine)}; ${r.queries_per_phase} distinct queries per latency phase, top-10.
Four users, a quarter of the memories public, one in ${RARE_TAG_EVERY} tagged \`rare\`; the viewer sees its own and the public ones.

## Ingest through \`submit_memories\`
${r.ingest.per_second} memories/s (batches of ${String(r.ingest.batch)}, ${String(r.ingest.concurrency)} calls in flight) against the embedder's own
batch-64 throughput of ${r.ingest.embedder_ceiling_per_second.before} texts/s before the load and ${r.ingest.embedder_ceiling_per_second.after} after:
**${Math.round(r.ingest.share_of_ceiling * 100)} % of the ceiling**.

## query_memory latency
The gateway phases' clients run in a process of their own (\`bench/rest-client-ipc.mjs\`, \`bench/rest-clients.mjs\`);
the services, the gRPC phases and the raw statement share the benchmark's process; everything shares the machine's
cores. The one-client phases run interleaved, query by query in turn (gateway, QueryMemory, the embedder then the
statement), so a slow spell of the machine weighs on all of them alike; sixteen clients run after them.

${lat}

At p50 with one client: end to end ${o.end_to_end_ms} ms = embedding ${o.embedding_ms} ms + pgvector ${o.pgvector_ms} ms + **Picard ${o.picard_ms} ms
(${Math.round((o.picard_share ?? 0) * 100)} %)**: gateway, token check, two gRPC hops, the keyword candidates and their fusion
(the default hybrid search), permission filter, decryption, serialisation. The pgvector statement is the store's
own, run as memory-service runs it (one round trip: prepared, on a connection with the search settings, the
vector in binary; \`searchAsService\` in bench/scale-sql.ts).

## recall@10 against an exact scan
| filter | HNSW setting | recall@10 | full pages | p50 ms |
|---|---|---|---|---|
${rec}

Through the service's own QueryMemory path: recall@10 = ${r.recall_at_10_through_service}.

## Hybrid ranking
${JSON.stringify(r.hybrid)}
`;
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
