import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { embeddingBatchTotals } from '@picard/service-kit';
import { testLogger } from '@picard/service-kit/testing';
import { startEmbeddingService, type EmbeddingServiceHandle } from '../../src/index.js';
import { createOfflineUseProvider } from '../../src/providers/offline-use.provider.js';
import type { EmbeddingProvider } from '../../src/providers/embedding-provider.js';
import { configFrom, cosine, embeddingClient, failure } from './helpers.js';

/** Wraps the real model and counts its calls and how many ran at once; it does not replace anything. */
function counting(inner: EmbeddingProvider) {
  const calls: number[] = [];
  const running = { now: 0, most: 0 };
  const provider: EmbeddingProvider = {
    name: inner.name,
    model: inner.model,
    dimensions: inner.dimensions,
    parallelism: inner.parallelism,
    embed: async (texts) => {
      calls.push(texts.length);
      running.most = Math.max(running.most, ++running.now);
      try {
        return await inner.embed(texts);
      } finally {
        running.now--;
      }
    },
  };
  return { provider, calls, running };
}

describe('embedding-service with the offline model', () => {
  let service: EmbeddingServiceHandle;
  let api: ReturnType<typeof embeddingClient>;
  let calls: number[];
  let running: { now: number; most: number };
  let model: EmbeddingProvider;

  beforeAll(async () => {
    model = await createOfflineUseProvider();
    const wrapped = counting(model);
    calls = wrapped.calls;
    running = wrapped.running;
    service = await startEmbeddingService({
      config: configFrom({}),
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      provider: wrapped.provider,
    });
    api = embeddingClient(service.grpc.address);
  });

  afterAll(async () => {
    api.client.close();
    await service.stop();
    // Ends the model's worker thread (the service does not own a provider handed to it).
    await model.close?.();
  });

  it('does not leave the model’s rethrowing process handlers installed', () => {
    expect(process.listeners('uncaughtException').some((l) => String(l).includes('throw ex'))).toBe(false);
    expect(process.listeners('unhandledRejection').some((l) => String(l).includes('throw reason'))).toBe(
      false,
    );
  });

  it('reports the model', async () => {
    expect(await api.info()).toEqual({
      provider: 'offline',
      model: 'universal-sentence-encoder-lite',
      dimensions: 512,
    });
  });

  it('ranks a paraphrase above an unrelated sentence, with unit-length 512-d vectors', async () => {
    const res = await api.embed([
      'The cat is sleeping on the sofa',
      'A kitten naps on the couch',
      'Stock markets fell sharply after the interest rate decision',
    ]);
    expect(res.dimensions).toBe(512);
    expect(res.model).toBe('universal-sentence-encoder-lite');
    const [cat, kitten, stocks] = res.vectors.map((v) => v.values);
    for (const v of [cat!, kitten!, stocks!]) {
      expect(v).toHaveLength(512);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    }
    expect(cosine(cat!, kitten!)).toBeGreaterThan(cosine(cat!, stocks!) + 0.3);
  });

  it('answers repeated texts from the cache without calling the model', async () => {
    const text = `cache me ${Date.now()}`;
    const first = await api.embed([text]);
    expect(first.cached).toBe(0);
    const before = calls.length;
    const second = await api.embed([text, text]);
    expect(second.cached).toBe(2);
    expect(calls.length).toBe(before);
    expect(second.vectors[0]!.values).toEqual(first.vectors[0]!.values);
  });

  it('merges concurrent calls into a few provider calls, no more at once than the model runs', async () => {
    expect(model.parallelism).toBe(2); // one per worker thread
    const before = calls.length;
    const metricBefore = await embeddingBatchTotals('offline');
    running.most = 0;
    const texts = Array.from(
      { length: 12 },
      (_, i) => `concurrent sentence number ${i} about topic ${i * 7}`,
    );
    const results = await Promise.all(texts.map((t) => api.embed([t])));
    expect(results.every((r) => r.vectors.length === 1 && r.cached === 0)).toBe(true);
    const made = calls.slice(before);
    // The first call may leave alone, a second joins it on the other worker, the rest queue behind
    // them and leave together; never one call per request.
    expect(made.length).toBeLessThanOrEqual(4);
    expect(made.reduce((a, b) => a + b, 0)).toBe(12);
    expect(running.most).toBeLessThanOrEqual(2);
    // The batch-size histogram saw the same calls.
    const metricAfter = await embeddingBatchTotals('offline');
    expect(metricAfter.calls - metricBefore.calls).toBe(made.length);
    expect(metricAfter.texts - metricBefore.texts).toBe(12);
  });

  it('splits a large call into provider batches of at most 64', async () => {
    const before = calls.length;
    const texts = Array.from({ length: 150 }, (_, i) => `batch text ${i} ${Date.now()}`);
    const res = await api.embed(texts);
    expect(res.vectors).toHaveLength(150);
    const made = calls.slice(before);
    expect(Math.max(...made)).toBeLessThanOrEqual(64);
    expect(made.reduce((a, b) => a + b, 0)).toBe(150);
  });

  it('refuses bad input naming the field', async () => {
    const empty = await failure(api.embed([]));
    expect([empty.code, empty.field]).toEqual(['invalid_argument', 'texts']);
    const blank = await failure(api.embed(['fine', 'also fine', '']));
    expect([blank.code, blank.field]).toEqual(['invalid_argument', 'texts[2]']);
    const many = await failure(api.embed(Array.from({ length: 257 }, (_, i) => `t${i}`)));
    expect([many.code, many.field]).toEqual(['invalid_argument', 'texts']);
    const huge = await failure(api.embed(['x'.repeat(50_001)]));
    expect([huge.code, huge.field]).toEqual(['invalid_argument', 'texts[0]']);
  });

  it('serves another model only when it can reach it, naming model or dimensions', async () => {
    const same = await api.embed(['hello there'], 'universal-sentence-encoder-lite');
    expect([same.model, same.dimensions]).toEqual(['universal-sentence-encoder-lite', 512]);
    const unknown = await failure(api.embed(['x'], 'text-embedding-3-small', 1536));
    expect([unknown.code, unknown.field]).toEqual(['unprocessable', 'model']);
    expect(unknown.message).toMatch(/OPENAI_API_KEY/);
    const wrongWidth = await failure(api.embed(['x'], 'universal-sentence-encoder-lite', 8));
    expect([wrongWidth.code, wrongWidth.field]).toEqual(['invalid_argument', 'dimensions']);
  });
});
