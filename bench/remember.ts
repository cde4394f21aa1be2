/**
 * remember_conversation throughput through the gateway (`npm run bench:remember`). One user sends
 * BENCH_CALLS (30) conversations of BENCH_FACTS (5) user messages (each a distinct fact) plus as many
 * assistant replies, one call at a time, on two stacks up together, calls interleaved so load from
 * other jobs weighs on both alike:
 *   offline    no LLM: each user message is a fact, checked against the user's nearest memory, then stored
 *   fake LLM   the loopback fake model (answers at once): extraction returns the user messages as facts,
 *              the decision adds them all; so the numbers are persona-service's own work around two model
 *              calls (prompting, validation, one search per fact, the batch write)
 * Facts/s = facts judged per second of call time (added + skipped). Options (env): BENCH_CALLS,
 * BENCH_FACTS, PICARD_TEST_DATABASE_URL/PICARD_TEST_NATS_URL for cluster mode.
 */
import os from 'node:os';
import { startFakeOpenAi, type FakeChatBody } from '@picard/service-kit/testing';
import { callTool, registerClient, startTestStack, userToken } from '../e2e/support/test-stack.js';
import { memoryText, rng } from './text-generator.js';
import { summarize, type Summary } from './stats.js';
import { latencyTable, machineInfo, runBenchmark, writeResults } from './report.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 30);
const FACTS = Number(process.env.BENCH_FACTS ?? 5);
const WARMUP = 3;
const mode = process.env.PICARD_TEST_DATABASE_URL ? 'cluster' : 'embedded';
const log = (s: string) => process.stdout.write(`${s}\n`);
const round = (x: number) => Math.round(x * 100) / 100;

type Result = { added: unknown[]; updated: unknown[]; skipped: unknown[]; generated: boolean };

/** The fake model: the user messages are the facts; every fact is new. */
function fakeModel(body: FakeChatBody): string {
  const data = (tag: string) =>
    JSON.parse(new RegExp(`<${tag}>\\n(.*)\\n</${tag}>`, 's').exec(body.messages[1]!.content)![1]!) as {
      role?: string;
      content?: string;
      fact?: number;
    }[];
  if (body.messages[1]!.content.includes('<conversation>')) {
    const facts = data('conversation')
      .filter((m) => m.role === 'user')
      .map((m) => ({ text: m.content }));
    return JSON.stringify({ facts });
  }
  const decisions = data('facts').map((f) => ({ fact: f.fact, action: 'ADD', memory: null, reason: 'new' }));
  return JSON.stringify({ decisions });
}

async function stack(env: NodeJS.ProcessEnv) {
  // One user calls hundreds of times a minute: lift the per-user budget.
  const t = await startTestStack({ GATEWAY_QUERY_USER_PER_MINUTE: '1000000', ...env });
  const owner = await userToken(t, await registerClient(t), 'bench-owner');
  return { t, owner };
}

async function main() {
  const loads = [round(os.loadavg()[0]!)];
  log(`Picard remember_conversation benchmark: ${CALLS} calls of ${FACTS} facts, c=1, ${mode} mode`);
  const offline = await stack({});
  const llm = await startFakeOpenAi({ reply: fakeModel });
  const withLlm = await stack({ LLM_BASE_URL: llm.url, LLM_API_KEY: 'bench', LLM_MODEL: 'fake-model' });

  const r = rng(11);
  let n = 0;
  const conversation = () =>
    Array.from({ length: FACTS }, () => [
      { role: 'user', content: memoryText(r, n++) },
      { role: 'assistant', content: 'Noted, thank you.' },
    ]).flat();
  const phases: [string, typeof offline, boolean][] = [
    ['offline', offline, false],
    ['fake LLM', withLlm, true],
  ];
  const samples = phases.map(() => [] as number[]);
  const facts = phases.map(() => 0);
  for (let i = 0; i < WARMUP + CALLS; i++) {
    for (const [k, [name, s, generated]] of phases.entries()) {
      const messages = conversation();
      const t0 = performance.now();
      const res = await callTool(s.t, s.owner.access_token, 'remember_conversation', { messages });
      const ms = performance.now() - t0;
      const out = res.json?.result as Result | undefined;
      if (res.status !== 200 || !out || out.generated !== generated)
        throw new Error(`${name}: remember_conversation failed: ${res.status} ${res.text.slice(0, 300)}`);
      if (i < WARMUP) continue;
      samples[k]!.push(ms);
      facts[k]! += out.added.length + out.updated.length + out.skipped.length;
    }
  }
  loads.push(round(os.loadavg()[0]!));
  const llmCalls = llm.chatRequests().length;
  await withLlm.t.stop();
  await offline.t.stop();
  await llm.close();

  const latency: Record<string, Summary> = {};
  const factsPerSecond: Record<string, number> = {};
  for (const [k, [name]] of phases.entries()) {
    latency[name] = summarize(samples[k]!);
    const seconds = samples[k]!.reduce((a, b) => a + b, 0) / 1000;
    factsPerSecond[name] = round(facts[k]! / seconds);
    log(
      `${name.padEnd(10)} p50 ${latency[name].p50} ms/call  p95 ${latency[name].p95} ms  ${factsPerSecond[name]} facts/s`,
    );
  }
  const busy = Math.max(...loads) > 1.5;
  const report = {
    date: new Date().toISOString(),
    mode,
    machine: machineInfo(),
    load_average_1m: loads,
    other_load_on_machine: busy,
    calls: CALLS,
    facts_per_call: FACTS,
    concurrency: 1,
    llm_requests: llmCalls,
    latency_ms: latency,
    facts_per_second: factsPerSecond,
  };
  const name = `remember-${mode}`;
  await writeResults(
    name,
    report,
    `# remember_conversation throughput (${mode} mode)

${report.date}; ${CALLS} calls (plus ${WARMUP} warm-up) by one user, each a conversation of ${FACTS} user
messages (distinct facts) and ${FACTS} assistant replies, one call at a time, through the gateway REST
/api/tools; the two stacks' calls interleaved. machine: ${JSON.stringify(report.machine)}.
1-minute load average during the run: ${loads.join(', ')}${
      busy ? ' — **another job was running on this machine (load > 1.5): the numbers are pessimistic.**' : '.'
    }

${latencyTable(latency)}

Facts per second of call time: offline ${factsPerSecond.offline}, fake LLM ${factsPerSecond['fake LLM']}
(${llmCalls} model requests in all: an extraction per call, a decision once the user has memories).

Offline, each fact is one vector search and one write in turn; with the model, one search per fact (in
parallel), two model calls and one batch write. The fake model answers at once, so a real model's
generation time comes on top of the fake LLM row.
`,
  );
  log(`written to bench/results/${name}.json and .md`);
}

runBenchmark(main);
