/**
 * `npm run bench:load`: concurrent MCP clients (stock SDK, in a process of their own) run a mixed
 * workload (submit, query, get, update, share, query_user) for a fixed time against a real Picard,
 * sampling every server process's RSS. Reports throughput, p50/p95/p99 and errors per operation.
 *
 * BENCH_TARGET:
 *   embedded  `npm start` as a newcomer runs it (node dist/embedded.js, fresh data directory)
 *   cluster   every service its own process as docker-compose.yml configures it (two gateways,
 *             BENCH_INSTANCES memory- and embedding-services, default 2), on a fresh database of
 *             PICARD_TEST_DATABASE_URL and a NATS server of its own (needs `npm run build`)
 *   scale     query-only and submit-only load against the cluster with 1, then 2 memory- and
 *             embedding-service processes
 * BENCH_CLIENTS (16), BENCH_SECONDS (60; a soak: 600), BENCH_NAME (results file, default load-<target>).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startComposeCluster, waitUntilServing } from '../e2e/support/cluster-processes.js';
import { launch, waitFor } from '../e2e/support/launcher.js';
import { ADMIN, laterPort, registerClient, userToken } from '../e2e/support/test-stack.js';
import { runChildJob } from './child-job.js';
import { machineInfo, runBenchmark, writeResults } from './report.js';
import { summarize, type Summary } from './stats.js';
import { memoryText, queryText, rng } from './text-generator.js';

const TARGET = process.env.BENCH_TARGET ?? 'embedded';
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 2);
const RSS_EVERY_MS = 5_000;
const MIXES: Record<string, Record<string, number>> = {
  mixed: { submit: 25, query: 35, get: 15, update: 10, share: 5, query_user: 10 },
  query: { query: 1 },
  submit: { submit: 1 },
};
const log = (s: string) => process.stdout.write(`${s}\n`);
/**
 * Sixteen clients asking personas 10% of the time ask ~21 times a minute each, past the default
 * per-user limit (20): raised, so the run measures the system rather than the limiter.
 */
const LOAD_SETTINGS = { GATEWAY_QUERY_USER_PER_MINUTE: '600' };

interface Target {
  gateways: string[];
  /** Server processes whose memory is watched. */
  processes: { name: string; pid: number }[];
  stop(): Promise<void>;
}

interface RunResult {
  target: string;
  mix: string;
  instances?: number;
  clients: number;
  seconds: number;
  operations: Record<string, Summary & { per_second: number; errors: number }>;
  total_per_second: number;
  errors: number;
  error_examples: Record<string, string[]>;
  rss_mib: Record<string, RssGrowth>;
  rss_timeline: { at_s: number; mib: Record<string, number> }[];
}

async function startEmbedded(): Promise<Target> {
  const dataDir = await mkdtemp(join(os.tmpdir(), 'picard-load-'));
  const port = await laterPort();
  const picard = launch(dataDir, port, LOAD_SETTINGS);
  // The banner, not /health: the admin account is set up in the background after the services serve.
  await waitFor(picard, /Picard is ready/);
  return {
    gateways: [`http://127.0.0.1:${port}`],
    processes: [{ name: 'picard (npm start)', pid: picard.child.pid! }],
    async stop() {
      picard.child.kill('SIGTERM');
      await picard.exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startCluster(instances: number): Promise<Target> {
  const databaseUrl = process.env.PICARD_TEST_DATABASE_URL;
  if (!databaseUrl)
    throw new Error('the cluster target needs PICARD_TEST_DATABASE_URL (see scripts/services.sh)');
  const cluster = await startComposeCluster({
    databaseUrl,
    instances: { gateway: 2, 'memory-service': instances, 'embedding-service': instances },
    admin: ADMIN,
    variables: LOAD_SETTINGS,
  });
  await waitUntilServing(cluster, 240_000);
  return {
    gateways: cluster.gateways,
    processes: cluster.processes
      .filter((p) => p.service !== 'client-app')
      .map((p) => ({ name: p.name, pid: p.child.pid! })),
    stop: () => cluster.stop(),
  };
}

function rssMib(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

type LoadUser = Awaited<ReturnType<typeof userToken>>;

/**
 * One client and its users per target: a user consents to one client, so a second run on the same
 * target (the scale benchmark's second workload) reuses them rather than minting for a new client.
 */
const usersOf = new WeakMap<Target, Promise<LoadUser[]>>();
function loadUsers(target: Target): Promise<LoadUser[]> {
  let users = usersOf.get(target);
  if (!users) {
    const gateway = { url: target.gateways[0]! };
    users = registerClient(gateway).then((client) =>
      Promise.all(Array.from({ length: CLIENTS }, (_, i) => userToken(gateway, client, `load-${i}`))),
    );
    usersOf.set(target, users);
  }
  return users;
}

async function runLoad(target: Target, label: string, mix: string, instances?: number): Promise<RunResult> {
  const users = await loadUsers(target);
  const r = rng(7);
  const job = {
    gateways: target.gateways,
    users: users.map((u) => ({ token: u.access_token, userId: u.user_id })),
    seconds: SECONDS,
    mix: MIXES[mix],
    texts: Array.from({ length: 2000 }, (_, i) => memoryText(r, i)),
    queries: Array.from({ length: 500 }, (_, i) => queryText(r, 10_000 + i)),
    seed: 12,
  };
  const timeline: RunResult['rss_timeline'] = [];
  const started = Date.now();
  const sample = () =>
    timeline.push({
      at_s: Math.round((Date.now() - started) / 1000),
      mib: Object.fromEntries(target.processes.map((p) => [p.name, rssMib(p.pid)])),
    });
  sample();
  const sampler = setInterval(sample, RSS_EVERY_MS);
  log(`${label}: ${CLIENTS} MCP clients, ${mix} workload, ${SECONDS} s`);
  const out = await runChildJob<{
    seconds: number;
    samples: Record<string, number[]>;
    errors: Record<string, number>;
    examples: Record<string, string[]>;
  }>('load-clients.mjs', job);
  clearInterval(sampler);
  sample();

  const operations: RunResult['operations'] = {};
  for (const [op, ms] of Object.entries(out.samples)) {
    operations[op] = {
      ...summarize(ms),
      per_second: round(ms.length / out.seconds),
      errors: out.errors[op] ?? 0,
    };
  }
  const rss = rssGrowth(
    target.processes.map((p) => p.name),
    timeline,
    out.seconds,
  );
  const calls = Object.values(out.samples).reduce((a, s) => a + s.length, 0);
  const errors = Object.values(out.errors).reduce((a, n) => a + n, 0);
  const result: RunResult = {
    target: label,
    mix,
    instances,
    clients: CLIENTS,
    seconds: round(out.seconds),
    operations,
    total_per_second: round(calls / out.seconds),
    errors,
    error_examples: out.examples,
    rss_mib: rss,
    rss_timeline: timeline,
  };
  log(resultTable(result));
  return result;
}

const round = (x: number) => Math.round(x * 10) / 10;

interface RssGrowth {
  warm: number;
  end: number;
  max: number;
  growth_percent: number;
}

/**
 * Growth of each process's RSS from the warm window (the second sixth of the run: model loaded,
 * caches and pools filled) to the last sixth, each the mean of its samples: a garbage-collected heap
 * saws up and down by tens of MiB, so two single samples would measure where the saw happened to be.
 */
function rssGrowth(names: string[], timeline: RunResult['rss_timeline'], seconds: number) {
  const sixth = seconds / 6;
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
  const window = (name: string, from: number, to: number) =>
    timeline.filter((t) => t.at_s >= from && t.at_s <= to).map((t) => t.mib[name] ?? NaN);
  const rss: Record<string, RssGrowth> = {};
  for (const name of names) {
    const warm = mean(window(name, sixth, 2 * sixth));
    const end = mean(window(name, seconds - sixth, seconds));
    const max = Math.max(...timeline.map((t) => t.mib[name] ?? 0));
    rss[name] = {
      warm: Math.round(warm),
      end: Math.round(end),
      max,
      growth_percent: round(((end - warm) / warm) * 100),
    };
  }
  return rss;
}

function resultTable(r: RunResult): string {
  const ops = Object.entries(r.operations).map(
    ([op, s]) => `| ${op} | ${s.n} | ${s.per_second} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.errors} |`,
  );
  const rss = Object.entries(r.rss_mib).map(
    ([p, m]) => `| ${p} | ${m.warm} | ${m.end} | ${m.max} | ${m.growth_percent} % |`,
  );
  return [
    `**${r.target}**, ${r.mix} workload${r.instances ? `, ${r.instances} memory- and embedding-service processes` : ''}: ${r.clients} clients for ${r.seconds} s, ${r.total_per_second} calls/s, ${r.errors} errors`,
    '',
    '| operation | calls | per s | p50 ms | p95 ms | p99 ms | errors |',
    '|---|---|---|---|---|---|---|',
    ...ops,
    '',
    `RSS (MiB; warm = mean over ${Math.round(r.seconds / 6)}-${Math.round(r.seconds / 3)} s, end = mean over the last ${Math.round(r.seconds / 6)} s, sampled every ${RSS_EVERY_MS / 1000} s):`,
    '',
    '| process | warm | end | max | growth |',
    '|---|---|---|---|---|',
    ...rss,
    ...(r.errors ? ['', `Errors: ${JSON.stringify(r.error_examples)}`] : []),
  ].join('\n');
}

async function main() {
  const name = process.env.BENCH_NAME ?? `load-${TARGET}`;
  const runs: RunResult[] = [];
  if (TARGET === 'embedded' || TARGET === 'cluster') {
    const target = TARGET === 'embedded' ? await startEmbedded() : await startCluster(INSTANCES);
    try {
      runs.push(
        await runLoad(
          target,
          TARGET,
          process.env.BENCH_MIX ?? 'mixed',
          TARGET === 'cluster' ? INSTANCES : undefined,
        ),
      );
    } finally {
      await target.stop();
    }
  } else if (TARGET === 'scale') {
    for (const instances of [1, 2]) {
      const target = await startCluster(instances);
      try {
        for (const mix of ['query', 'submit']) runs.push(await runLoad(target, 'cluster', mix, instances));
      } finally {
        await target.stop();
      }
    }
  } else {
    throw new Error(`BENCH_TARGET must be embedded, cluster or scale (got ${TARGET})`);
  }
  const conditions: Conditions = {
    bench_target: TARGET,
    clients: CLIENTS,
    seconds: SECONDS,
    machine: machineInfo(),
    load_average_at_end: os.loadavg().map(round),
    note: 'clients in their own process on the same machine; the services and the clients share its cores',
    settings: LOAD_SETTINGS,
  };
  await writeLoadResults(name, conditions, runs);
}

interface Conditions {
  bench_target: string;
  clients: number;
  seconds: number;
  machine: ReturnType<typeof machineInfo>;
  load_average_at_end: number[];
  note: string;
  settings: Record<string, string>;
}

async function writeLoadResults(name: string, conditions: Conditions, runs: RunResult[]) {
  await writeResults(
    name,
    { conditions, runs },
    [
      `# ${name}`,
      '',
      `\`BENCH_TARGET=${conditions.bench_target} BENCH_SECONDS=${conditions.seconds} npm run bench:load\` — ${conditions.machine.cpus} cores (${conditions.machine.cpu}), ${conditions.machine.memory_gib} GiB, Node ${conditions.machine.node}; load average at the end ${conditions.load_average_at_end.join(' / ')}. ${conditions.note}. Settings: ${JSON.stringify(conditions.settings)} (the default 20 persona questions per user per minute would refuse some).`,
      '',
      ...runs.map((r) => `${resultTable(r)}\n`),
    ].join('\n'),
  );
  log(`results: bench/results/${name}.md`);
}

/**
 * `BENCH_REPORT=<name> npm run bench:load` rewrites bench/results/<name>.md from its JSON without
 * running anything (after a change to how results are summarised; the samples are all kept).
 */
async function rewriteReport(name: string) {
  const saved = JSON.parse(readFileSync(new URL(`./results/${name}.json`, import.meta.url), 'utf8')) as {
    conditions: Partial<Conditions> & Omit<Conditions, 'bench_target' | 'clients' | 'seconds'>;
    runs: RunResult[];
  };
  const first = saved.runs[0]!;
  const conditions: Conditions = {
    ...saved.conditions,
    bench_target: saved.conditions.bench_target ?? (saved.runs.length > 1 ? 'scale' : first.target),
    clients: saved.conditions.clients ?? first.clients,
    seconds: saved.conditions.seconds ?? Math.round(first.seconds),
  };
  const runs = saved.runs.map((r) => ({
    ...r,
    rss_mib: rssGrowth(Object.keys(r.rss_mib), r.rss_timeline, r.seconds),
  }));
  await writeLoadResults(name, conditions, runs);
}

runBenchmark(process.env.BENCH_REPORT ? () => rewriteReport(process.env.BENCH_REPORT!) : main);
