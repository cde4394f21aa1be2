import type { Metadata } from '@grpc/grpc-js';
import { memoryPb } from '@picard/proto';
import { callerMetadata, callUnary, newId } from '@picard/service-kit';
import {
  memories as qualityMemories,
  queries as qualityQueries,
} from '../embedding-service/test/quality/dataset.js';
import { objects } from './text-generator.js';

interface Options {
  memory: memoryPb.MemoryServiceClient;
  md: (userId: string) => Metadata;
  queryText: (i: number) => string;
  limit: number;
  queries: number;
  viewer: string;
}

/**
 * Does hybrid ranking help? Two measurements, plain vector ranking against hybrid on the same queries:
 *   - keyword-bearing queries on the loaded data: precision@limit, a result counting as relevant when
 *     it mentions the thing the query names (the generator's object phrase);
 *   - the hand-written paraphrase set (embedding-service/test/quality): hit@1 and MRR, where the
 *     query shares few words with its answer.
 */
export async function hybridEval(o: Options) {
  const query = (
    q: string,
    hybrid: boolean,
    userId: string,
    extra: Partial<memoryPb.QueryMemoryRequest> = {},
  ) =>
    callUnary(
      o.memory.queryMemory.bind(o.memory),
      {
        query: q,
        limit: o.limit,
        permission: 0,
        tags: [],
        anyTags: [],
        hybrid: false,
        mode: hybrid ? memoryPb.SearchMode.SEARCH_MODE_HYBRID : memoryPb.SearchMode.SEARCH_MODE_VECTOR,
        ...extra,
      },
      o.md(userId),
    );

  const precision = { plain: 0, hybrid: 0 };
  let counted = 0;
  for (let i = 0; i < o.queries; i++) {
    const q = o.queryText(i);
    const object = objects.find((x) => q.includes(x));
    if (!object) continue;
    counted++;
    for (const mode of ['plain', 'hybrid'] as const) {
      const res = await query(q, mode === 'hybrid', o.viewer);
      precision[mode] += res.memories.filter((m) => m.text.includes(object)).length / o.limit;
    }
  }

  const owner = newId();
  const write = callerMetadata({
    userId: owner,
    scopes: ['memories:read', 'memories:write'],
    clientId: 'bench',
  });
  const stored = await callUnary(
    o.memory.submitMemories.bind(o.memory),
    {
      validateOnly: false,
      memories: qualityMemories.map((m) => ({
        text: m.text,
        permission: memoryPb.Permission.PERMISSION_PRIVATE,
        tags: [],
        sharedWith: undefined,
      })),
    },
    write,
  );
  const idOf = new Map(stored.memories.map((m, i) => [m.id, qualityMemories[i]!.id]));
  const paraphrase = { plain: { hit1: 0, mrr: 0 }, hybrid: { hit1: 0, mrr: 0 } };
  for (const q of qualityQueries) {
    for (const mode of ['plain', 'hybrid'] as const) {
      const res = await query(q.text, mode === 'hybrid', owner, { userId: owner });
      const rank = res.memories.findIndex((m) => idOf.get(m.id) === q.target);
      if (rank === 0) paraphrase[mode].hit1++;
      if (rank >= 0) paraphrase[mode].mrr += 1 / (rank + 1);
    }
  }
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const n = qualityQueries.length;
  return {
    keyword_queries: counted,
    precision_at_limit: { plain: r3(precision.plain / counted), hybrid: r3(precision.hybrid / counted) },
    paraphrase_queries: n,
    paraphrase_hit_at_1: { plain: r3(paraphrase.plain.hit1 / n), hybrid: r3(paraphrase.hybrid.hit1 / n) },
    paraphrase_mrr_at_limit: { plain: r3(paraphrase.plain.mrr / n), hybrid: r3(paraphrase.hybrid.mrr / n) },
  };
}
