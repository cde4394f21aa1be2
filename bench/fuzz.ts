/**
 * `npm run bench:fuzz`: issue #12 part 3 at volume. The generators of e2e/fuzz (requests from the
 * tools' zod schemas and the OpenAPI document, valid or mutated) against every target at once,
 * counting instead of stopping: inputs per target and per mutation, statuses, every failure (a 5xx,
 * a 4xx without its reason, a write by a refused request, a service down), duration.
 * Options: the input count as first argument or BENCH_FUZZ_INPUTS (10000); PICARD_FUZZ_SEED;
 * PICARD_TEST_DATABASE_URL and PICARD_TEST_NATS_URL for PostgreSQL + NATS.
 * Exits non-zero when any input failed, after writing bench/results/fuzz.json and fuzz.md.
 */
import { emptyStats, fuzzSeed, runFuzz, type FuzzStats } from '../e2e/fuzz/fuzz-run.js';
import { closeConnections } from '../e2e/fuzz/send.js';
import { fuzzTargets, type Family } from '../e2e/fuzz/targets.js';
import { WriteLedger } from '../e2e/fuzz/write-ledger.js';
import { openWorld } from '../e2e/fuzz/world.js';
import { machineInfo, runBenchmark, writeResults } from './report.js';

const INPUTS = Number(process.argv[2] ?? process.env.BENCH_FUZZ_INPUTS ?? 10_000);
const FAMILIES: Family[] = ['rest-tools', 'mcp', 'accounts'];
const mode = process.env.PICARD_TEST_DATABASE_URL ? 'cluster' : 'embedded';
const log = (s: string) => process.stdout.write(`${s}\n`);

interface FailureKind {
  problem: string;
  count: number;
  targets: string[];
  examples: FuzzStats['failures'];
}

/** Failures grouped by what went wrong (the text before its details): how often, on which targets, a few examples. */
function failureKinds(stats: FuzzStats): FailureKind[] {
  const kinds = new Map<string, FailureKind>();
  for (const f of stats.failures) {
    for (const p of f.problems) {
      const problem = p.split(':')[0]!;
      const kind = kinds.get(problem) ?? { problem, count: 0, targets: [], examples: [] };
      kind.count++;
      const target = f.request.slice(1, f.request.indexOf(']'));
      if (!kind.targets.includes(target)) kind.targets.push(target);
      if (kind.examples.length < 3) kind.examples.push(f);
      kinds.set(problem, kind);
    }
  }
  return [...kinds.values()].sort((x, y) => y.count - x.count);
}

const table = (header: [string, string], rows: [string, number][]) =>
  [
    `| ${header[0]} | ${header[1]} |`,
    '|---|---:|',
    ...rows.map(([k, n]) => `| ${k.replace(/\|/g, '\\|')} | ${n} |`),
  ].join('\n');

const sorted = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1]);

async function main() {
  const seed = fuzzSeed();
  log(`Picard fuzzing benchmark: ${INPUTS} inputs, seed ${seed}, ${mode} mode`);
  const world = await openWorld();
  const catalog = fuzzTargets(world.t.publicUrl);
  const ledger = await WriteLedger.open(world.t);
  const stats = emptyStats();
  const started = performance.now();
  try {
    await runFuzz(world, catalog, ledger, {
      families: FAMILIES,
      runs: INPUTS,
      seed,
      collect: true,
      stats,
      onProgress: (s) => {
        if (s.inputs % 1000 === 0) {
          const seconds = (performance.now() - started) / 1000;
          log(
            `  ${s.inputs}/${INPUTS} inputs, ${s.failures.length} failures, ${(s.inputs / seconds).toFixed(0)}/s`,
          );
        }
      },
    });
  } finally {
    await ledger.close();
    closeConnections();
    await world.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const statuses = Object.fromEntries(
    Object.entries(stats.byStatus).sort(([a], [b]) => Number(a) - Number(b)),
  );
  const fivexx = Object.entries(stats.byStatus)
    .filter(([s]) => Number(s) >= 500)
    .reduce((n, [, c]) => n + c, 0);
  const kinds = failureKinds(stats);
  const report = {
    inputs: stats.inputs,
    seed,
    mode,
    duration_s: Math.round(seconds * 10) / 10,
    inputs_per_s: Math.round(stats.inputs / seconds),
    targets: catalog.targets.length,
    machine: machineInfo(),
    statuses,
    responses_5xx: fivexx,
    refused: stats.refused,
    health_checks: stats.healthChecks,
    failures: stats.failures.length,
    failure_kinds: kinds,
    inputs_per_target: Object.fromEntries(sorted(stats.byTarget)),
    inputs_per_mutation: Object.fromEntries(sorted(stats.byMutation)),
  };
  log(
    `\n${stats.inputs} inputs over ${catalog.targets.length} targets in ${report.duration_s} s (${report.inputs_per_s}/s)`,
  );
  log(
    `statuses: ${Object.entries(statuses)
      .map(([s, n]) => `${s}×${n}`)
      .join('  ')}`,
  );
  log(
    `5xx: ${fivexx}, refused: ${stats.refused}, health checks: ${stats.healthChecks}, failures: ${stats.failures.length}`,
  );
  for (const k of kinds) log(`  ${k.count}× ${k.problem} (${k.targets.sort().join(', ')})`);
  const m = report.machine;
  const markdown = [
    '# Fuzzing (issue #12, part 3)',
    '',
    `${stats.inputs} inputs over ${catalog.targets.length} targets (every tool over REST and MCP, the MCP protocol, every OAuth, account, admin and discovery endpoint), seed ${seed}, ${mode} mode, ${report.duration_s} s (${report.inputs_per_s} inputs/s) on ${m.cpus} × ${m.cpu}, ${m.memory_gib} GiB, Node ${m.node}.`,
    '',
    `**${fivexx} responses ≥ 500, ${stats.failures.length} failed inputs** (a 5xx, a 4xx without its reason, a write by a refused request, or a service down at one of ${stats.healthChecks} health checks); ${stats.refused} inputs refused.`,
    '',
    kinds.length
      ? `## Failures\n\n${table(
          ['problem (targets)', 'count'],
          kinds.map((k) => [`${k.problem} (${k.targets.sort().join(', ')})`, k.count]),
        )}\n\nExamples of each are in fuzz.json.\n`
      : '',
    '## Statuses',
    '',
    table(['status', 'count'], Object.entries(statuses)),
    '',
    '## Inputs per mutation',
    '',
    table(['mutation', 'inputs'], sorted(stats.byMutation)),
    '',
    '## Inputs per target',
    '',
    table(['target', 'inputs'], sorted(stats.byTarget)),
    '',
  ].join('\n');
  await writeResults('fuzz', report, markdown);
  log('wrote bench/results/fuzz.json and fuzz.md');
  if (stats.failures.length)
    throw new Error(`${stats.failures.length} of ${stats.inputs} inputs failed (seed ${seed})`);
}

runBenchmark(main);
