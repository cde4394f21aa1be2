import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testLogger } from '@picard/service-kit/testing';
import { startEmbeddingService, type EmbeddingServiceHandle } from '../../src/index.js';
import { memories, queries } from '../quality/dataset.js';
import {
  formatReport,
  randomVector,
  rotate,
  scoreRetrieval,
  seeded,
  type RetrievalScores,
} from '../quality/retrieval-metrics.js';
import { configFrom, embeddingClient } from './helpers.js';

/**
 * Semantic quality of the offline model on a hand-written labelled set, measured end to end
 * through gRPC. USE-lite reached hit@1 0.867 (26/30), hit@3 0.933 (28/30), MRR 0.910 and let
 * 1 of 8 lures beat its target when the set was written (test/quality/last-run.txt has the
 * latest run). The floors sit just below that: two more first-place misses, or one more query
 * falling out of the top 3, fails the test.
 */
const FLOOR = { hitAt1: 0.8, hitAt3: 0.9, mrr: 0.85, luresAboveTarget: 2 };

describe('offline model retrieval quality on the labelled set', () => {
  let service: EmbeddingServiceHandle;
  let api: ReturnType<typeof embeddingClient>;
  let memoryVectors: { id: string; vector: number[] }[];
  let queryVectors: { text: string; target: string; lure?: string; vector: number[] }[];
  let model: RetrievalScores;

  beforeAll(async () => {
    service = await startEmbeddingService({
      config: configFrom({ EMBEDDING_PROVIDER: 'offline' }),
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: 0,
    });
    api = embeddingClient(service.grpc.address);
    const res = await api.embed([...memories.map((m) => m.text), ...queries.map((q) => q.text)]);
    const vectors = res.vectors.map((v) => v.values);
    memoryVectors = memories.map((m, i) => ({ id: m.id, vector: vectors[i]! }));
    queryVectors = queries.map((q, i) => ({ ...q, vector: vectors[memories.length + i]! }));
    model = scoreRetrieval(memoryVectors, queryVectors);
  });

  afterAll(async () => {
    api.client.close();
    await service.stop();
  });

  it('is a well-formed set: unique ids, every target and lure exists, no query targets a lure', () => {
    const ids = new Set(memories.map((m) => m.id));
    expect(ids.size).toBe(memories.length);
    expect(queries.length).toBeGreaterThanOrEqual(30);
    for (const q of queries) {
      expect(ids.has(q.target)).toBe(true);
      expect(q.target.startsWith('lure-')).toBe(false);
      if (q.lure) expect(ids.has(q.lure)).toBe(true);
    }
  });

  it('ranks the right memory first for most paraphrased queries', async () => {
    const shuffled = scoreRetrieval(
      memoryVectors,
      rotate(queryVectors.map((q) => q.target)).map((target, i) => ({
        ...queryVectors[i]!,
        target,
        lure: undefined,
      })),
    );
    const r = seeded(20261126);
    const random = scoreRetrieval(
      memoryVectors.map((m) => ({ ...m, vector: randomVector(r, 512) })),
      queryVectors.map((q) => ({ ...q, vector: randomVector(r, 512) })),
    );
    const report = [
      // No timestamp: the file changes only when the results do.
      `model ${service.provider.model} (${service.provider.dimensions}-d)`,
      formatReport('offline model', model),
      formatReport('control: targets rotated to the wrong memory', shuffled)
        .split('\n')
        .slice(0, 2)
        .join('\n'),
      formatReport('control: random vectors', random).split('\n').slice(0, 2).join('\n'),
      '',
    ].join('\n');
    await writeFile(new URL('../quality/last-run.txt', import.meta.url), report);
    console.log(report);

    expect(model.hitAt1).toBeGreaterThanOrEqual(FLOOR.hitAt1);
    expect(model.hitAt3).toBeGreaterThanOrEqual(FLOOR.hitAt3);
    expect(model.mrr).toBeGreaterThanOrEqual(FLOOR.mrr);
    expect(model.luresAboveTarget).toBeLessThanOrEqual(FLOOR.luresAboveTarget);
    // The controls prove the measurement can fail: the same code scores wrong labels and a
    // model that knows nothing far lower.
    expect(shuffled.hitAt1).toBeLessThan(0.2);
    expect(random.hitAt1).toBeLessThan(0.2);
    expect(random.mrr).toBeLessThan(model.mrr / 2);
  });
});
