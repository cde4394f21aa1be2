/**
 * `npx tsx bench/embedding-throughput.ts`: texts/s of the embedding-service with the offline
 * model, through gRPC Embed, started in this process on 127.0.0.1:0 (client and server share the
 * event loop, as in the embedded launcher). Every measured text is new to the service's cache
 * except in the cache phase; warm-up calls are excluded. Phases:
 *   batch N, c=1        one caller sending N texts per call, one call at a time
 *   batch 32, c=4       four callers with 32-text calls (does pipelining help a CPU-bound model?)
 *   batch 1, c=32       32 concurrent single-text calls: the micro-batcher merges them
 *   cache hit           one text the cache already holds, one call at a time (gRPC + cache cost)
 *   model alone         the provider called directly, no gRPC, no batcher (the floor of the cost)
 * Options (env): BENCH_EMBEDDING_TEXTS (512) texts per batched phase; single-text c=1 uses a quarter.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { createLogger, loadConfig } from '@picard/service-kit';
import { testTokens, withInternalKey } from '@picard/service-kit/testing';
import { embeddingConfigSchema, startEmbeddingService } from '../embedding-service/src/index.js';
import { MAX_PROVIDER_BATCH } from '../embedding-service/src/domain/embedder.js';
import { measureEmbedderCeiling, type EmbedderCeiling } from './embedder-ceiling.js';
import { measure, summarize, type Summary } from './stats.js';
import { machineInfo, writeResults } from './report.js';
import { memoryText, rng } from './text-generator.js';

const TEXTS = Number(process.env.BENCH_EMBEDDING_TEXTS ?? 512);
const log = (s: string) => process.stdout.write(`${s}\n`);
const round = (x: number) => Math.round(x * 100) / 100;

interface Phase extends EmbedderCeiling {
  name: string;
}

async function main() {
  const loadBefore = os.loadavg().map(round);
  const modelStart = performance.now();
  const service = await startEmbeddingService({
    config: loadConfig(embeddingConfigSchema, withInternalKey({ EMBEDDING_PROVIDER: 'offline' })),
    logger: createLogger('embedding-bench', 'warn'),
    grpcHost: '127.0.0.1',
    grpcPort: 0,
  });
  const startupSeconds = round((performance.now() - modelStart) / 1000);
  const { provider } = service;
  const address = service.grpc.address;
  log(
    `embedding throughput: ${provider.name} ${provider.model} (${provider.dimensions}-d), ${os.cpus().length} cores ` +
      `(${os.cpus()[0]?.model}), node ${process.version}, load avg ${loadBefore.join(' ')}, service up in ${startupSeconds} s`,
  );

  const phases: Phase[] = [];
  const run = async (
    name: string,
    opts: Omit<Parameters<typeof measureEmbedderCeiling>[0], 'address' | 'tokens'>,
  ) => {
    const res = await measureEmbedderCeiling({ address, tokens: testTokens('bench'), ...opts });
    phases.push({ name, ...res });
    const l = res.callLatencyMs;
    log(
      `${name.padEnd(18)} ${String(res.textsPerSecond).padStart(8)} texts/s  ${res.texts} texts in ${res.calls} calls, ` +
        `${res.seconds} s; call p50 ${l.p50} ms p95 ${l.p95} ms; cache hits ${res.cachedTexts}`,
    );
  };

  await run('batch 1, c=1', { batchSize: 1, texts: Math.ceil(TEXTS / 4), warmupCalls: 5 });
  await run('batch 8, c=1', { batchSize: 8, texts: TEXTS });
  await run('batch 32, c=1', { batchSize: 32, texts: TEXTS });
  await run('batch 64, c=1', { batchSize: 64, texts: TEXTS });
  await run('batch 32, c=4', { batchSize: 32, concurrency: 4, texts: TEXTS, warmupCalls: 1 });
  await run('batch 1, c=32', { batchSize: 1, concurrency: 32, texts: TEXTS, warmupCalls: 1 });
  await run('cache hit, c=1', { batchSize: 1, distinct: false, texts: 500, warmupCalls: 5 });

  // The model alone, for the cost of gRPC + batcher + cache bookkeeping above it.
  const direct: Record<string, { textsPerSecond: number; callLatencyMs: Summary }> = {};
  const r = rng(99);
  // Tagged like the gRPC phases' texts, so both embed texts of the same length.
  const tag = randomUUID().slice(0, 8);
  for (const batchSize of [1, 32]) {
    const calls = Math.ceil((batchSize === 1 ? TEXTS / 4 : TEXTS) / batchSize);
    const texts = (i: number) =>
      Array.from({ length: batchSize }, (_, j) => `${memoryText(r, i * batchSize + j)} ${tag}`);
    await measure(3, 1, async (i) => void (await provider.embed(texts(i))));
    const t0 = performance.now();
    const lat = await measure(calls, 1, async (i) => void (await provider.embed(texts(i + 3))));
    const tps = round((calls * batchSize) / ((performance.now() - t0) / 1000));
    direct[`model alone, batch ${batchSize}`] = { textsPerSecond: tps, callLatencyMs: summarize(lat) };
    log(
      `${`model alone, b=${batchSize}`.padEnd(18)} ${String(tps).padStart(8)} texts/s  call p50 ${summarize(lat).p50} ms`,
    );
  }
  await service.stop();

  const tps = (name: string) => phases.find((p) => p.name === name)!.textsPerSecond;
  const report = {
    date: new Date().toISOString(),
    machine: {
      ...machineInfo(),
      load_avg_before: loadBefore,
      load_avg_after: os.loadavg().map(round),
    },
    model: { provider: provider.name, name: provider.model, dimensions: provider.dimensions },
    conditions: {
      transport: 'gRPC over loopback, client and service in one process',
      max_provider_batch: MAX_PROVIDER_BATCH,
      texts_per_batched_phase: TEXTS,
      distinct_texts: 'every measured text is new to the cache except in the cache phase',
      warmup: 'excluded (2 calls per worker unless stated)',
      service_startup_seconds: startupSeconds,
    },
    phases,
    model_alone: direct,
    summary: {
      batch1_texts_per_s: tps('batch 1, c=1'),
      batch32_texts_per_s: tps('batch 32, c=1'),
      batch32_speedup_over_batch1: round(tps('batch 32, c=1') / tps('batch 1, c=1')),
      concurrent_singles_texts_per_s: tps('batch 1, c=32'),
      micro_batcher_speedup: round(tps('batch 1, c=32') / tps('batch 1, c=1')),
      cache_hit_p50_ms: phases.find((p) => p.name === 'cache hit, c=1')!.callLatencyMs.p50,
    },
  };
  await writeResults('embedding-throughput', report, markdown(report));
  log(`\nsummary: ${JSON.stringify(report.summary)}`);
  log('written to bench/results/embedding-throughput.json and .md');
}

function markdown(report: {
  date: string;
  machine: Record<string, unknown>;
  model: { provider: string; name: string; dimensions: number };
  conditions: Record<string, unknown>;
  phases: Phase[];
  model_alone: Record<string, { textsPerSecond: number; callLatencyMs: Summary }>;
  summary: Record<string, number>;
}) {
  const rows = report.phases
    .map((p) => {
      const l = p.callLatencyMs;
      return `| ${p.name} | ${p.textsPerSecond} | ${p.texts} | ${p.calls} | ${l.p50} | ${l.p95} | ${l.p99} | ${p.cachedTexts} |`;
    })
    .join('\n');
  const alone = Object.entries(report.model_alone)
    .map(([k, v]) => `| ${k} | ${v.textsPerSecond} | ${v.callLatencyMs.p50} | ${v.callLatencyMs.p95} |`)
    .join('\n');
  const s = report.summary;
  return `# Embedding throughput (${report.model.provider}: ${report.model.name}, ${report.model.dimensions}-d)

${report.date}; machine: ${JSON.stringify(report.machine)}.
Conditions: ${JSON.stringify(report.conditions)}.

| phase | texts/s | texts | calls | call p50 ms | call p95 ms | call p99 ms | cache hits |
|---|---|---|---|---|---|---|---|
${rows}

| model alone (no gRPC, no batcher) | texts/s | call p50 ms | call p95 ms |
|---|---|---|---|
${alone}

Batch 32 gives ${s.batch32_speedup_over_batch1}× the texts/s of batch 1; 32 concurrent single-text calls reach
${s.concurrent_singles_texts_per_s} texts/s (${s.micro_batcher_speedup}× one caller at a time) because the micro-batcher merges them
into shared model calls. A cache hit costs ${s.cache_hit_p50_ms} ms at p50 (gRPC round trip + hash + lookup).
Load average before/after: ${JSON.stringify(report.machine.load_avg_before)} / ${JSON.stringify(report.machine.load_avg_after)}
(2 cores; a load near or above 2 means other work shared the CPU and the numbers are low).
`;
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
