/**
 * `npm run bench:matrix-products`: the offline model's CPU per text with its matrix products on each
 * placement this machine offers — tfjs' WebAssembly kernels, OpenBLAS, and the addon's packed kernels
 * (each the CPU runs) — for the shapes Picard sends it: one query (short and long), the micro-batcher's
 * merged queries (4 and 16 texts), an import's batch (64 longer texts). The model runs on this thread
 * (no worker, no gRPC), warm, placements alternating round by round so a slow spell of the machine
 * weighs on all alike; the vectors of every placement are checked against WebAssembly's (< 1e-5).
 * Options (env): BENCH_ROUNDS (3), BENCH_MS_PER_CASE (1500: time per case and placement in a round).
 */
import os from 'node:os';
import {
  embedRows,
  loadModel,
  type EmbeddingsModel,
} from '../embedding-service/src/providers/offline-model.worker.mjs';
import { packedKernels, useNativeMatrixProducts } from '../embedding-service/src/providers/native-matmul.mjs';
import { memoryText, queryText, rng } from './text-generator.js';
import { machineInfo, runBenchmark, writeResults } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MS_PER_CASE = Number(process.env.BENCH_MS_PER_CASE ?? 1500);
const log = (s: string) => process.stdout.write(`${s}\n`);
const round2 = (x: number) => Math.round(x * 100) / 100;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs' own types are not installed (see the worker)
type Tfjs = any;
type Placement = { name: string; place: () => { restore(): void } | undefined };

const r = rng(42);
let serial = 0;
const query = () => queryText(r, serial++);
const longQuery = () => `${memoryText(r, serial++)} ${memoryText(r, serial++)} ${memoryText(r, serial++)}`;
const CASES: { name: string; texts: () => string[] }[] = [
  { name: 'one query', texts: () => [query()] },
  { name: 'one long query (~45 words)', texts: () => [longQuery()] },
  { name: '4 queries in one call', texts: () => Array.from({ length: 4 }, query) },
  { name: '16 queries in one call', texts: () => Array.from({ length: 16 }, query) },
  { name: '64 memories in one call', texts: () => Array.from({ length: 64 }, () => memoryText(r, serial++)) },
];

function placements(tf: Tfjs, model: EmbeddingsModel): Placement[] {
  const weights = Object.values((model as unknown as { model: { weights: object } }).model.weights).flat();
  const placed = (options: Parameters<typeof useNativeMatrixProducts>[1]) => () => {
    const on = useNativeMatrixProducts(tf, options);
    return on.active ? on : undefined;
  };
  const out: Placement[] = [{ name: 'WebAssembly', place: () => undefined }];
  const blas = placed({})();
  if (blas) {
    blas.restore();
    out.push({ name: 'OpenBLAS', place: placed({}) });
  }
  for (const kernel of packedKernels()) {
    out.push({ name: `packed ${kernel}`, place: placed({ weights, packedKernel: kernel, libraries: [] }) });
  }
  return out;
}

async function main() {
  const core = (await import('@energetic-ai/core')) as Tfjs;
  const tf = core.default ?? core;
  const model = await loadModel();
  const all = placements(tf, model);
  log(`matrix products: ${all.map((p) => p.name).join(', ')}; ${os.cpus().length} cores, ${ROUNDS} rounds`);

  // Vectors of each placement against WebAssembly's, on the same texts.
  const sample = [query(), longQuery(), ...Array.from({ length: 6 }, query)];
  const reference = (await embedRows(model, sample)).vectors;
  const maxDiff: Record<string, number> = {};
  for (const p of all) {
    const placed = p.place();
    try {
      const got = (await embedRows(model, sample)).vectors;
      maxDiff[p.name] = got.reduce((m, x, i) => Math.max(m, Math.abs(x - reference[i]!)), 0);
      if (maxDiff[p.name]! > 1e-5)
        throw new Error(`${p.name}: vectors differ from WebAssembly's by ${maxDiff[p.name]}`);
    } finally {
      placed?.restore();
    }
  }

  const perText: Record<string, Record<string, number[]>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of CASES) {
      for (const p of all) {
        const placed = p.place();
        try {
          for (let i = 0; i < 3; i++) await embedRows(model, c.texts()); // warm: layouts made, code optimised
          let texts = 0;
          const t0 = performance.now();
          while (performance.now() - t0 < MS_PER_CASE) {
            const batch = c.texts();
            await embedRows(model, batch);
            texts += batch.length;
          }
          ((perText[c.name] ??= {})[p.name] ??= []).push((performance.now() - t0) / texts);
        } finally {
          placed?.restore();
        }
      }
    }
    log(`round ${round + 1}/${ROUNDS} done`);
  }

  const best = (xs: number[]) => round2(Math.min(...xs));
  const median = (xs: number[]) => round2([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
  const rows = CASES.map(
    (c) => `| ${c.name} | ${all.map((p) => `${median(perText[c.name]![p.name]!)}`).join(' | ')} |`,
  );
  for (const row of rows) log(row);
  const report = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    rounds: ROUNDS,
    ms_per_case: MS_PER_CASE,
    max_difference_from_webassembly: maxDiff,
    ms_per_text: Object.fromEntries(
      CASES.map((c) => [
        c.name,
        Object.fromEntries(
          all.map((p) => [
            p.name,
            { median: median(perText[c.name]![p.name]!), best: best(perText[c.name]![p.name]!) },
          ]),
        ),
      ]),
    ),
  };
  await writeResults(
    'matrix-products',
    report,
    `# The offline model's time per text by where its matrix products run

${report.date}; machine: ${JSON.stringify(report.machine)}. The model on the benchmark's thread (no worker, no
gRPC), warm; ${ROUNDS} rounds, each case ~${MS_PER_CASE} ms per placement and round, placements alternating;
the median of the rounds. Texts from bench/text-generator.ts, each new.

| ms per text (one busy thread) | ${all.map((p) => p.name).join(' | ')} |
|---|${all.map(() => '---').join('|')}|
${rows.join('\n')}

Largest difference of a vector element from WebAssembly's: ${JSON.stringify(Object.fromEntries(Object.entries(maxDiff).map(([k, v]) => [k, Number(v.toExponential(2))])))}.
"packed" runs only the products with the model's weights on the packed kernel (the others on WebAssembly, as on a
machine without OpenBLAS); the service uses the best packed kernel and OpenBLAS for the rest.
`,
  );
  log('written to bench/results/matrix-products.json and .md');
}

runBenchmark(main);
