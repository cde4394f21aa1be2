/**
 * `npm run bench:search-cpu` (cluster mode only): where the CPU of a search goes, on a dataset that
 * stays between runs so changes can be compared (A/B) without loading it again. Loads BENCH_MEMORIES
 * memories once into schemas `<prefix>_auth|memory|persona` of PICARD_TEST_DATABASE_URL (kept at the
 * end), then runs BENCH_ROUNDS rounds of query_memory phases through the gateway, one client process
 * per phase (bench/rest-clients.mjs), and reports per phase the latency and the CPU per query of each
 * thread of the services' process (main thread, model workers, V8's helper threads), of PostgreSQL and
 * of the client process. The first round runs on code V8 has not optimised yet: compare later rounds.
 * Options (env): BENCH_MEMORIES (20000), BENCH_QUERIES (600 per phase), BENCH_ROUNDS (3),
 * BENCH_CONCURRENCY (1,16), BENCH_SCHEMA_PREFIX (bench_cpu), BENCH_RESULTS (search-cpu-cluster-<memories>: the
 * results file's name; empty for none); the services' own variables (EMBEDDING_*, MEMORY_*,
 * GATEWAY_*) pass through, e.g. EMBEDDING_OFFLINE_WORKERS=1.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { embeddingBatchTotals } from '@picard/service-kit';
import { callTool, registerClient, startTestStack, userToken } from '../e2e/support/test-stack.js';
import { clientPhase, runClientPhases } from './child-job.js';
import { memoryText, queryText, rng, scaleMemory } from './text-generator.js';
import { measure, summarize, type Summary } from './stats.js';
import { latencyTable, machineInfo, runBenchmark, writeResults } from './report.js';
import { perUnit, snapshot, threadIds, totalMs } from './thread-cpu.js';

const N = Number(process.env.BENCH_MEMORIES ?? 20_000);
const Q = Number(process.env.BENCH_QUERIES ?? 600);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16').split(',').map(Number);
const PREFIX = process.env.BENCH_SCHEMA_PREFIX ?? 'bench_cpu';
const RESULTS = process.env.BENCH_RESULTS ?? `search-cpu-cluster-${N}`;
const BATCH = 200;
const LIMIT = 10;
const log = (s: string) => process.stdout.write(`${s}\n`);
const PASSED_ON = /^(EMBEDDING|MEMORY|GATEWAY|PERSONA|AUTH)_/;

async function main() {
  const helpers = threadIds();
  const url = process.env.PICARD_TEST_DATABASE_URL;
  if (!url) throw new Error('bench:search-cpu keeps its dataset in PostgreSQL: set PICARD_TEST_DATABASE_URL');
  const schemas = { auth: `${PREFIX}_auth`, memory: `${PREFIX}_memory`, persona: `${PREFIX}_persona` };
  // The dataset outlives the run, so its keys and its OAuth client do too (a new client may not mint
  // tokens for users who consented to another): both live in a file beside the system's temp files.
  const stateFile = path.join(os.tmpdir(), `${PREFIX}-state.json`);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const exists = (await db.query('select 1 from pg_namespace where nspname = $1', [schemas.memory])).rowCount;
  if (exists && !fs.existsSync(stateFile)) {
    throw new Error(
      `schemas ${PREFIX}_* exist but ${stateFile} (their key and client) is gone: drop the schemas or pick another BENCH_SCHEMA_PREFIX`,
    );
  }
  const state = exists
    ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { key: string; client?: object })
    : { key: `k1:${randomBytes(32).toString('base64')}` };
  const passed = Object.fromEntries(Object.entries(process.env).filter(([k]) => PASSED_ON.test(k)));
  const t = await startTestStack(
    { ...passed, MEMORY_ENCRYPTION_KEYS: state.key },
    { existing: { url, schemas } },
  );
  const client = (state.client ?? (await registerClient(t))) as { client_id: string; client_secret: string };
  fs.writeFileSync(stateFile, JSON.stringify({ ...state, client }), { mode: 0o600 });
  const users = await Promise.all(['cpu-a', 'cpu-b', 'cpu-c', 'cpu-d'].map((u) => userToken(t, client, u)));

  const stored = Number(
    (await db.query(`select count(*)::int as n from "${schemas.memory}".memories`)).rows[0].n,
  );
  if (stored < N) {
    log(`loading ${N - stored} memories (${stored} stored)`);
    const first = Math.floor(stored / BATCH);
    const calls = Math.ceil(N / BATCH);
    await measure(calls - first, 2, async (k) => {
      const c = first + k;
      // Texts from a generator seeded per memory, so a load cut short continues with the same data.
      const memories = Array.from({ length: Math.min(BATCH, N - c * BATCH) }, (_, j) => {
        const i = c * BATCH + j;
        return scaleMemory(memoryText(rng(1000 + i), i), i);
      });
      const res = await callTool(t, users[c % users.length]!.access_token, 'submit_memories', { memories });
      if (res.status !== 200)
        throw new Error(`load failed at call ${c}: ${res.status} ${res.text.slice(0, 300)}`);
      if (c % 25 === 0) log(`  ${Math.min(N, (c + 1) * BATCH)}/${N}`);
    });
    await db.query(`analyze "${schemas.memory}".memories`);
  }

  const r = rng(7);
  let offset = 0;
  const queries = () => {
    const texts = Array.from({ length: Q + 20 }, (_, i) => queryText(r, offset + i));
    offset += Q + 20;
    return (i: number) => texts[i]!;
  };
  const latency: Record<string, Summary> = {};
  const cpu: Record<string, [string, number][]> = {};
  const batch: Record<string, number> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of CONCURRENCY) {
      const name = `round ${round} c=${c}`;
      const before = snapshot(helpers);
      const batchesBefore = await embeddingBatchTotals();
      await runClientPhases(
        'rest-clients.mjs',
        { url: t.url, token: users[0]!.access_token, limit: LIMIT },
        [clientPhase(name, c, queries(), Q)],
        (_, samples) => (latency[name] = summarize(samples)),
      );
      cpu[name] = perUnit(before, snapshot(helpers), Q + 20); // the warm-up's 20 queries ran too
      const batchesAfter = await embeddingBatchTotals();
      batch[name] =
        Math.round(
          (100 * (batchesAfter.texts - batchesBefore.texts)) /
            Math.max(1, batchesAfter.calls - batchesBefore.calls),
        ) / 100;
      log(
        `${name.padEnd(14)} p50 ${latency[name]!.p50} p95 ${latency[name]!.p95} mean ${latency[name]!.mean} ms; ` +
          `texts per model call ${batch[name]}; ` +
          `CPU per query ${totalMs(cpu[name]).toFixed(2)} ms: ${cpu[name].map(([k, ms]) => `${k} ${ms}`).join(', ')}`,
      );
    }
  }
  await db.end();
  await t.stack.stop();
  await t.bus.close();
  if (!RESULTS) return;

  const conditions = {
    memories: N,
    queries_per_phase: Q,
    rounds: ROUNDS,
    limit: LIMIT,
    passed_env: passed,
    load_avg_after: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  const cpuRows = Object.entries(cpu).map(
    ([name, rows]) =>
      `| ${name} | ${batch[name]} | ${totalMs(rows).toFixed(2)} | ${rows.map(([k, ms]) => `${k} ${ms}`).join(', ')} |`,
  );
  await writeResults(
    RESULTS,
    {
      date: new Date().toISOString(),
      machine: machineInfo(),
      conditions,
      latency,
      texts_per_model_call: batch,
      cpu_ms_per_query: cpu,
    },
    [
      `# Where a search's CPU goes (cluster mode, ${N} memories)`,
      '',
      `${new Date().toISOString()}; machine: ${JSON.stringify(machineInfo())}; conditions: ${JSON.stringify(conditions)}.`,
      'Hybrid query_memory through the gateway (REST), top-10, four users, a quarter of the memories public.',
      "Every service runs in the benchmark's process: `main` is its event loop, `worker <id>` a thread the services",
      "started (the offline model's workers), `V8/libuv helpers` the threads the process had before (V8's compiler",
      "and garbage collector helpers); `clients` is the phase's client process, `postgres` all of PostgreSQL's processes.",
      'Round 1 runs on code V8 has not optimised yet. Texts per model call: how many queries the embedder merged',
      'into one call of the model (picard_embedding_batch_texts).',
      '',
      latencyTable(latency),
      '',
      '| phase | texts per model call | CPU ms per query | by thread or process (ms) |',
      '|---|---|---|---|',
      ...cpuRows,
      '',
    ].join('\n'),
  );
}

runBenchmark(main);
