/**
 * query_user latency through the gateway (`npx tsx --conditions=picard-source bench/persona-query.ts`).
 * Loads BENCH_MEMORIES (200) memories for one user with submit_memories, then asks that user's
 * persona BENCH_QUERIES (100) distinct questions one at a time. The first four phases run interleaved
 * call by call on two stacks that are up together, so load from other jobs weighs on each alike:
 *   query_memory REST        the retrieval alone (same prompts' kind, limit = memory_limit): the baseline
 *   offline REST             query_user with no LLM configured: retrieval + prompt fitting + offline answer
 *   fake LLM REST            a second stack whose LLM is the loopback fake (canned reply, no network), so the
 *                            numbers are persona-service's own overhead around a model that answers at once
 *   fake LLM MCP stream      the same over MCP with stream: true and a progress token (QueryUserStream)
 *   fake LLM cached          afterwards, one prompt repeated: the answer cache (and the embedding cache) answer it
 * Options (env): BENCH_MEMORIES, BENCH_QUERIES, PICARD_TEST_DATABASE_URL/PICARD_TEST_NATS_URL for cluster mode.
 */
import os from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFakeOpenAi } from '@picard/service-kit/testing';
import { callTool, registerClient, startTestStack, userToken } from '../e2e/support/test-stack.js';
import { memoryText, queryText, rng } from './text-generator.js';
import { summarize, type Summary } from './stats.js';
import { machineInfo, latencyTable, writeResults } from './report.js';

const N = Number(process.env.BENCH_MEMORIES ?? 200);
const Q = Number(process.env.BENCH_QUERIES ?? 100);
const WARMUP = 10;
/** persona-service's default memory_limit: how many memories each answer is built from. */
const MEMORY_LIMIT = 10;
const BATCH = 100;
const mode = process.env.PICARD_TEST_DATABASE_URL ? 'cluster' : 'embedded';
const log = (s: string) => process.stdout.write(`${s}\n`);
const round = (x: number) => Math.round(x * 100) / 100;

const results: Record<string, Summary> = {};
const loads: number[] = [];
const sampleLoad = () => loads.push(round(os.loadavg()[0]!));

/** One user with N memories (a quarter public) on a fresh stack; `env` chooses the answerer. */
async function stackWithMemories(env: NodeJS.ProcessEnv) {
  // The benchmark asks one persona hundreds of times a minute: lift the per-user budget.
  const t = await startTestStack({ GATEWAY_QUERY_USER_PER_MINUTE: '1000000', ...env });
  const client = await registerClient(t);
  const owner = await userToken(t, client, 'bench-owner');
  const r = rng(7);
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const memories = Array.from({ length: Math.min(BATCH, N - i) }, (_, k) => ({
      text: memoryText(r, i + k),
      permission: (i + k) % 4 === 0 ? 'public' : 'private',
    }));
    const res = await callTool(t, owner.access_token, 'submit_memories', { memories });
    if (res.status !== 200) throw new Error(`load failed: ${res.status} ${res.text}`);
  }
  log(`  loaded ${N} memories in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { t, owner };
}

/** Distinct prompts per phase (queryText tags each with its index), so no phase rides another's caches. */
let offset = 0;
function prompts() {
  const r = rng(1000 + offset);
  const base = offset;
  offset += Q + WARMUP;
  return (i: number) => queryText(r, base + i);
}

/**
 * Runs the phases' calls interleaved (a, b, a, b...), so that load from other jobs on the machine,
 * which comes and goes, weighs on each phase alike and their difference stays meaningful.
 */
async function phases(list: [string, (i: number) => Promise<void>][]) {
  for (let i = 0; i < WARMUP; i++) for (const [, task] of list) await task(Q + i); // prompts not reused
  sampleLoad();
  const samples = list.map(() => [] as number[]);
  for (let i = 0; i < Q; i++) {
    for (const [k, [, task]] of list.entries()) {
      const t0 = performance.now();
      await task(i);
      samples[k]!.push(performance.now() - t0);
    }
  }
  sampleLoad();
  for (const [k, [name]] of list.entries()) {
    const s = (results[name] = summarize(samples[k]!));
    log(`${name.padEnd(32)} p50 ${s.p50} ms  p95 ${s.p95} ms  p99 ${s.p99} ms  mean ${s.mean} ms`);
  }
}

type Answer = { generated: boolean; memories: unknown[]; citations: string[] };

function expectAnswer(res: { status: number; text: string; json: { result?: Answer } }, generated: boolean) {
  const a = res.json?.result;
  if (res.status !== 200 || !a || a.generated !== generated || a.memories.length !== MEMORY_LIMIT)
    throw new Error(`query_user failed: ${res.status} ${res.text.slice(0, 300)}`);
}

async function main() {
  sampleLoad();
  log(
    `Picard query_user benchmark: ${N} memories, ${Q} prompts per phase, c=1, ${mode} mode, ` +
      `${os.cpus().length} cores, load average ${loads[0]}`,
  );

  // Both stacks stay up together so their calls can be interleaved (see phases()).
  log('stack 1: no LLM (offline answerer)');
  const offline = await stackWithMemories({});
  log('stack 2: fake OpenAI-compatible LLM on loopback (canned reply, no network)');
  const llm = await startFakeOpenAi({ reply: 'A canned answer from the fake model. [memory:none]' });
  const withLlm = await stackWithMemories({
    LLM_BASE_URL: llm.url,
    LLM_API_KEY: 'bench',
    LLM_MODEL: 'fake-model',
  });
  const mcp = new Client({ name: 'bench', version: '1' });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(`${withLlm.t.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${withLlm.owner.access_token}` } },
    }),
  );
  const ask = (s: typeof offline, prompt: string) =>
    callTool(s.t, s.owner.access_token, 'query_user', { user_id: s.owner.user_id, prompt });
  const [qm, qo, qf, qs] = [prompts(), prompts(), prompts(), prompts()];
  let deltas = 0;
  await phases([
    [
      'query_memory REST (offline stack)',
      async (i) => {
        const { t, owner } = offline;
        const res = await callTool(t, owner.access_token, 'query_memory', {
          query: qm(i),
          limit: MEMORY_LIMIT,
          user_id: owner.user_id,
        });
        if (res.status !== 200) throw new Error(`query_memory failed: ${res.text}`);
      },
    ],
    ['query_user offline REST', async (i) => expectAnswer(await ask(offline, qo(i)), false)],
    ['query_user fake LLM REST', async (i) => expectAnswer(await ask(withLlm, qf(i)), true)],
    [
      'query_user fake LLM MCP stream',
      async (i) => {
        const res = await mcp.callTool(
          { name: 'query_user', arguments: { user_id: withLlm.owner.user_id, prompt: qs(i), stream: true } },
          undefined,
          { onprogress: () => void deltas++ },
        );
        if (res.isError) throw new Error(JSON.stringify(res.content));
      },
    ],
  ]);
  await mcp.close();
  const llmCalls = llm.chatRequests().length;
  await phases([
    [
      'query_user fake LLM cached',
      async () => expectAnswer(await ask(withLlm, 'what did grandma say?'), true),
    ],
  ]);
  const cachedCalls = llm.chatRequests().length - llmCalls;
  await withLlm.t.stop();
  await offline.t.stop();
  await llm.close();

  const p50 = (k: string) => results[k]!.p50;
  const breakdown = {
    retrieval_query_memory_ms: p50('query_memory REST (offline stack)'),
    persona_over_retrieval_offline_ms: round(
      p50('query_user offline REST') - p50('query_memory REST (offline stack)'),
    ),
    llm_path_over_offline_ms: round(p50('query_user fake LLM REST') - p50('query_user offline REST')),
    mcp_stream_over_rest_ms: round(p50('query_user fake LLM MCP stream') - p50('query_user fake LLM REST')),
    progress_notifications_per_answer: round(deltas / (Q + WARMUP)),
    llm_calls_for_repeated_prompt: cachedCalls,
  };
  const busy = Math.max(...loads) > 1.5;
  const report = {
    date: new Date().toISOString(),
    mode,
    machine: machineInfo(),
    load_average_1m: loads,
    other_load_on_machine: busy,
    memories: N,
    public_share: 0.25,
    prompts_per_phase: Q,
    concurrency: 1,
    memory_limit: MEMORY_LIMIT,
    latency_ms: results,
    breakdown_p50: breakdown,
  };
  if (busy)
    log(
      `NOTE: 1-minute load average reached ${Math.max(...loads)} (> 1.5): another job was running; numbers are pessimistic.`,
    );
  const name = `persona-query-${mode}`;
  await writeResults(name, report, markdown(report));
  log(`breakdown at p50: ${JSON.stringify(breakdown)}`);
  log(`written to bench/results/${name}.json and .md`);
}

function markdown(r: {
  date: string;
  mode: string;
  machine: Record<string, unknown>;
  load_average_1m: number[];
  other_load_on_machine: boolean;
  latency_ms: Record<string, Summary>;
  breakdown_p50: Record<string, number>;
}) {
  const rows = latencyTable(r.latency_ms);
  const b = r.breakdown_p50;
  return `# query_user latency (${r.mode} mode)

${r.date}; one user with ${N} memories (a quarter public), asked by the owner, ${Q} distinct prompts per phase
(plus ${WARMUP} warm-up), one client, each answer built from ${MEMORY_LIMIT} memories; through the gateway REST
/api/tools unless named MCP. machine: ${JSON.stringify(r.machine)}.
1-minute load average during the run: ${r.load_average_1m.join(', ')}${
    r.other_load_on_machine
      ? ' — **another job was running on this machine (load > 1.5): the numbers are pessimistic.**'
      : '.'
  }

${rows}

Differences at p50 (signed; under load, a few ms either way are noise):
- query_user offline − query_memory: ${b.persona_over_retrieval_offline_ms} ms (one more gRPC hop, persona
  lookup, prompt fitting, the offline answer); retrieval alone is ${b.retrieval_query_memory_ms} ms.
- fake LLM − offline: ${b.llm_path_over_offline_ms} ms (prompt building, the openai client, the loopback HTTP
  call, citation parsing, the answer cache).
- MCP stream − REST: ${b.mcp_stream_over_rest_ms} ms (MCP framing, SSE, ${b.progress_notifications_per_answer}
  progress notifications per answer).
- A repeated prompt called the LLM ${b.llm_calls_for_repeated_prompt} time(s) in ${Q + WARMUP} calls: the answer
  cache answers the rest, but retrieval still runs (the key holds the visible-memory set).

The fake LLM runs in the same process, so its own work is counted too; a real model adds its generation time on top.
`;
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
