/**
 * The embedder's own throughput through gRPC Embed, for a given batch size, against any running
 * EmbeddingService. Other benchmarks compare their ingest rate with it (how close does a write
 * path come to what the model alone can do?).
 */
import { randomUUID } from 'node:crypto';
import { embeddingPb } from '@picard/proto';
import { callUnary, createGrpcClient, type InternalTokens } from '@picard/service-kit';
import { measure, summarize, type Summary } from './stats.js';
import { memoryText, rng } from './text-generator.js';

export interface EmbedderCeilingOptions {
  /** host:port of a running EmbeddingService. */
  address: string;
  /** Signs the calls (the service refuses unsigned ones). */
  tokens: InternalTokens;
  /** Texts per Embed call (1..256; the service hands the model at most 64 at a time). */
  batchSize: number;
  /** Embed calls in flight at once (default 1). */
  concurrency?: number;
  /** Texts to measure (default max(128, 16 × batchSize)); rounded up to whole calls. */
  texts?: number;
  /** Calls per worker made first and not measured (default 2). */
  warmupCalls?: number;
  /**
   * true (default): every text is new to the service, so its LRU cache never answers and the model
   * does the work. false: the same texts on every call, primed during warm-up, so the cache answers.
   */
  distinct?: boolean;
  /** Seed of the text generator (default 7). */
  seed?: number;
}

export interface EmbedderCeiling {
  batchSize: number;
  concurrency: number;
  calls: number;
  texts: number;
  seconds: number;
  textsPerSecond: number;
  /** Texts the service reported as cache hits during the measured calls (0 when distinct). */
  cachedTexts: number;
  callLatencyMs: Summary;
}

const round = (x: number) => Math.round(x * 100) / 100;

export async function measureEmbedderCeiling(opts: EmbedderCeilingOptions): Promise<EmbedderCeiling> {
  const { address, batchSize, tokens } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 256) {
    throw new Error(`batchSize must be an integer in 1..256 (got ${batchSize})`);
  }
  const concurrency = opts.concurrency ?? 1;
  const distinct = opts.distinct ?? true;
  const calls = Math.ceil((opts.texts ?? Math.max(128, 16 * batchSize)) / batchSize);
  const warmup = (opts.warmupCalls ?? 2) * concurrency;
  // A fresh tag per measurement keeps texts distinct from any earlier run against the same service.
  const tag = randomUUID().slice(0, 8);
  const r = rng(opts.seed ?? 7);
  const pool = Array.from({ length: (warmup + calls) * batchSize }, (_, i) => `${memoryText(r, i)} ${tag}`);
  const batch = (call: number) =>
    distinct ? pool.slice(call * batchSize, (call + 1) * batchSize) : pool.slice(0, batchSize);

  const client = createGrpcClient(embeddingPb.EmbeddingServiceClient, address, tokens);
  try {
    const embed = (texts: string[]) =>
      callUnary(client.embed.bind(client), { texts, model: '', dimensions: 0 }, undefined, 120_000);
    await measure(warmup, concurrency, async (i) => void (await embed(batch(i))));
    let cachedTexts = 0;
    const t0 = performance.now();
    const latencies = await measure(calls, concurrency, async (i) => {
      const res = await embed(batch(warmup + i));
      if (res.vectors.length !== batchSize)
        throw new Error(`got ${res.vectors.length} vectors for ${batchSize} texts`);
      cachedTexts += res.cached;
    });
    const seconds = (performance.now() - t0) / 1000;
    return {
      batchSize,
      concurrency,
      calls,
      texts: calls * batchSize,
      seconds: round(seconds),
      textsPerSecond: round((calls * batchSize) / seconds),
      cachedTexts,
      callLatencyMs: summarize(latencies),
    };
  } finally {
    client.close();
  }
}
