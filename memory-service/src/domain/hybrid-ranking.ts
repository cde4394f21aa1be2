/**
 * Hybrid ranking: one list of candidates from the vector index (nearest meaning) and one from the
 * blind keyword index (BM25 over the query's words), fused into one order. Both lists come from
 * the database already filtered by visibility, so fusion only orders what the caller may see.
 *
 *   - weighted (default): cosine similarity + weight × min(1, keyword score), the keyword score
 *     being BM25 relative to the query's ideal (store/keyword.store.ts), so sharing a common word
 *     earns little and sharing the query's rare words (a name, a place) earns the full weight.
 *     Every candidate has a similarity (the keyword query computes it too), so a memory that only
 *     the keyword index found competes on meaning as well;
 *   - rrf: reciprocal rank fusion, Σ weight_list / (RRF_K + rank) over the lists it appears in.
 *
 * The default and its weight were chosen on the development half of the conversational set and
 * checked against the paraphrase set, where a shared word must not outrank meaning
 * (bench/fusion-tuning.ts; results in bench/results/fusion-tuning.md and retrieval-eval-*.md).
 */
export type FusionMethod = 'rrf' | 'weighted';

export interface FusionOptions {
  method: FusionMethod;
  /** weighted: the keyword bonus of the best keyword match; rrf: the keyword list's weight (vector = 1). */
  keywordWeight: number;
}

export const RRF_K = 60;
export const DEFAULT_FUSION: FusionOptions = { method: 'weighted', keywordWeight: 0.1 };

/** The configured fusion: the measured weight for the default method, 1 (equal lists) for RRF. */
export function fusionOptions(method: FusionMethod, keywordWeight?: number): FusionOptions {
  return {
    method,
    keywordWeight: keywordWeight ?? (method === DEFAULT_FUSION.method ? DEFAULT_FUSION.keywordWeight : 1),
  };
}

export interface Ranked {
  id: string;
  /** Cosine similarity to the query; undefined for a memory still waiting for its vector. */
  similarity?: number;
  /** BM25 relative to the query's ideal (≈ 0..1); undefined when only the vector list has it. */
  keywordScore?: number;
}

/** Fuses the two lists (each best first) into one, best first; ties keep the vector order. */
export function fuse<T extends Ranked>(
  vectorHits: readonly T[],
  keywordHits: readonly T[],
  opts: FusionOptions = DEFAULT_FUSION,
): T[] {
  const byId = new Map<string, { item: T; score: number; order: number }>();
  const entry = (item: T, order: number) => {
    let e = byId.get(item.id);
    if (!e) {
      e = { item, score: 0, order };
      byId.set(item.id, e);
    } else if (e.item.keywordScore === undefined && item.keywordScore !== undefined) {
      e.item = { ...e.item, keywordScore: item.keywordScore };
    }
    return e;
  };
  if (opts.method === 'rrf') {
    vectorHits.forEach((item, rank) => (entry(item, rank).score += 1 / (RRF_K + rank + 1)));
    keywordHits.forEach(
      (item, rank) =>
        (entry(item, vectorHits.length + rank).score += opts.keywordWeight / (RRF_K + rank + 1)),
    );
  } else {
    vectorHits.forEach((item, rank) => entry(item, rank));
    keywordHits.forEach((item, rank) => entry(item, vectorHits.length + rank));
    for (const e of byId.values())
      e.score = (e.item.similarity ?? 0) + opts.keywordWeight * Math.min(1, e.item.keywordScore ?? 0);
  }
  return [...byId.values()].sort((a, b) => b.score - a.score || a.order - b.order).map((e) => e.item);
}
