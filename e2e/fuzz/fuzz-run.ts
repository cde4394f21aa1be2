import fc from 'fast-check';
import { describeRequest, type FuzzRequest } from './fuzz-request.js';
import { fuzzRequests } from './requests.js';
import { send } from './send.js';
import type { Family, TargetCatalog } from './targets.js';
import { judge } from './verdict.js';
import { WriteLedger, type Snapshot } from './write-ledger.js';
import type { World } from './world.js';

/** The seed of a run unless PICARD_FUZZ_SEED names another (fast-check prints it with any failure). */
export const DEFAULT_SEED = 20_251_112;
export const fuzzSeed = () => Number(process.env.PICARD_FUZZ_SEED ?? DEFAULT_SEED);

/** Every generated request is small enough to be answered well within this. */
const SEND_TIMEOUT_MS = 10_000;

export interface FuzzStats {
  inputs: number;
  byTarget: Record<string, number>;
  byMutation: Record<string, number>;
  byStatus: Record<string, number>;
  refused: number;
  failures: { request: string; problems: string[] }[];
  healthChecks: number;
}

export const emptyStats = (): FuzzStats => ({
  inputs: 0,
  byTarget: {},
  byMutation: {},
  byStatus: {},
  refused: 0,
  failures: [],
  healthChecks: 0,
});

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** "0 crashed processes": the gateway answers, and reports every service it calls as serving. */
export async function healthProblem(world: World): Promise<string | undefined> {
  try {
    const res = await fetch(`${world.t.url}/health`);
    const body = (await res.json()) as { status?: string };
    return res.status === 200 && body.status === 'ok'
      ? undefined
      : `/health answered ${res.status} ${JSON.stringify(body)}`;
  } catch (err) {
    return `/health did not answer: ${(err as Error).message}`;
  }
}

export interface FuzzRunOptions {
  families: Family[];
  runs: number;
  seed: number;
  /** Collect failures and go on (the benchmark); by default the first failure fails the property, and fast-check shrinks it. */
  collect?: boolean;
  healthEvery?: number;
  /**
   * Stops the run (as a failure) once this much time has passed: each shrink step of a failure is a
   * request again, and one that hangs costs the whole send timeout.
   */
  timeLimitMs?: number;
  stats?: FuzzStats;
  onProgress?: (stats: FuzzStats) => void;
}

/**
 * Sends `runs` generated requests, one at a time (so a write can be pinned on the request that
 * made it), and checks each: no 5xx, a reason in every 4xx, nothing written when refused, and the
 * services still serving every `healthEvery` requests.
 */
export async function runFuzz(
  world: World,
  catalog: TargetCatalog,
  ledger: WriteLedger,
  opts: FuzzRunOptions,
): Promise<FuzzStats> {
  const stats = opts.stats ?? emptyStats();
  const healthEvery = opts.healthEvery ?? 250;
  let before: Snapshot | undefined;
  // Whatever ran before (setup, another run) may have left counts to save.
  let countersPending = true;
  let sent = 0;

  const probe = async (r: FuzzRequest) => {
    if (!before) {
      if (countersPending) await world.flushCounters();
      countersPending = false;
      before = await ledger.settled();
    }
    const reply = await send(world, r, SEND_TIMEOUT_MS).catch((err: Error) => err);
    const problems: string[] = [];
    let refused = true;
    if (reply instanceof Error) {
      problems.push(`no answer: ${reply.message}`);
    } else {
      const verdict = judge(r, reply);
      problems.push(...verdict.problems);
      refused = verdict.refused;
      bump(stats.byStatus, String(reply.status));
    }
    if (refused) {
      const after = await ledger.snapshot();
      const written = WriteLedger.changes(before, after);
      if (written.length) problems.push(`refused, yet wrote to ${written.join(', ')}`);
      before = after;
      stats.refused++;
    } else {
      // Writes an accepted request sets off may land after its answer: wait for them before the next check.
      before = undefined;
      // Tool calls count activity in memory-service, saved on a timer unless flushed.
      countersPending ||= r.family !== 'accounts';
      if (r.identity === 'disposable' && r.credentials === 'proper') await world.renewDisposable();
    }
    stats.inputs++;
    bump(stats.byTarget, r.target);
    bump(stats.byMutation, r.mutation);
    if (++sent % healthEvery === 0) {
      stats.healthChecks++;
      const down = await healthProblem(world);
      if (down) problems.push(down);
    }
    opts.onProgress?.(stats);
    return problems;
  };

  await fc.assert(
    fc.asyncProperty(fuzzRequests(world, catalog, opts.families), async (r) => {
      const problems = await probe(r);
      if (!problems.length) return;
      if (opts.collect) stats.failures.push({ request: describeRequest(r), problems });
      else throw new Error(problems.join('\n'));
    }),
    {
      seed: opts.seed,
      numRuns: opts.runs,
      endOnFailure: opts.collect,
      plugins: opts.timeLimitMs
        ? [fc.interruptAfterTimeLimit(opts.timeLimitMs, { failOnInterrupt: true })]
        : [],
    },
  );
  stats.healthChecks++;
  const down = await healthProblem(world);
  if (down) {
    if (!opts.collect) throw new Error(down);
    stats.failures.push({ request: 'final health check', problems: [down] });
  }
  return stats;
}
