import os from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Summary } from './stats.js';

/** The machine a benchmark ran on, as every results file records it. */
export function machineInfo() {
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 100) / 100,
    node: process.version,
  };
}

/** The rows of a latency table (phase, p50, p95, p99, mean) under its header. */
export function latencyTable(results: Record<string, Summary>): string {
  const rows = Object.entries(results).map(
    ([k, s]) => `| ${k.trim()} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.mean} |`,
  );
  return ['| phase | p50 ms | p95 ms | p99 ms | mean ms |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Writes bench/results/<name>.json and .md. */
export async function writeResults(name: string, report: unknown, markdown: string): Promise<void> {
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL(`./results/${name}.json`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(new URL(`./results/${name}.md`, import.meta.url), markdown);
}

/**
 * Runs a benchmark's main and exits: the stacks a benchmark starts may leave idle handles (the model's
 * worker, pools), and a failure must give a non-zero exit code.
 */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
