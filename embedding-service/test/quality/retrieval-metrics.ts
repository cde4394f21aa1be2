/** Ranking metrics for the labelled set: pure functions, so the controls run the very same code. */

export interface RankedQuery {
  query: string;
  target: string;
  /** 1-based rank of the target among all memories. */
  rank: number;
  top: string[];
  lure?: string;
  /** Whether the lure ranked above the target. */
  lureWon: boolean;
}

export interface RetrievalScores {
  queries: number;
  memories: number;
  hitAt1: number;
  hitAt3: number;
  mrr: number;
  luresAboveTarget: number;
  lureQueries: number;
  ranked: RankedQuery[];
}

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** Cosine similarity; the vectors need not be unit length. */
export function cosine(a: number[], b: number[]): number {
  const norms = Math.sqrt(dot(a, a) * dot(b, b));
  return norms === 0 ? 0 : dot(a, b) / norms;
}

/**
 * Ranks every memory for every query by cosine similarity (ties broken by id, so the result does
 * not depend on input order) and scores where each query's target lands.
 */
export function scoreRetrieval(
  memories: { id: string; vector: number[] }[],
  queries: { text: string; target: string; lure?: string; vector: number[] }[],
): RetrievalScores {
  const ranked = queries.map((q) => {
    const order = memories
      .map((m) => ({ id: m.id, score: cosine(q.vector, m.vector) }))
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
      .map((m) => m.id);
    const rank = order.indexOf(q.target) + 1;
    if (rank === 0) throw new Error(`target ${q.target} of "${q.text}" is not among the memories`);
    const lureRank = q.lure ? order.indexOf(q.lure) + 1 : 0;
    return {
      query: q.text,
      target: q.target,
      rank,
      top: order.slice(0, 3),
      lure: q.lure,
      lureWon: lureRank > 0 && lureRank < rank,
    };
  });
  const share = (f: (r: RankedQuery) => number) => ranked.reduce((s, r) => s + f(r), 0) / ranked.length;
  return {
    queries: ranked.length,
    memories: memories.length,
    hitAt1: share((r) => (r.rank === 1 ? 1 : 0)),
    hitAt3: share((r) => (r.rank <= 3 ? 1 : 0)),
    mrr: share((r) => 1 / r.rank),
    luresAboveTarget: ranked.filter((r) => r.lureWon).length,
    lureQueries: ranked.filter((r) => r.lure).length,
    ranked,
  };
}

/** Seeded PRNG (mulberry32), so the controls are the same on every run. */
export { seededRandom as seeded } from '@picard/service-kit/testing';

/** A random direction with the given dimensions (a model that knows nothing). */
export function randomVector(r: () => number, dimensions: number): number[] {
  return Array.from({ length: dimensions }, () => r() * 2 - 1);
}

/** Rotates a list by one, so every item lands on another's place (a derangement). */
export const rotate = <T>(xs: T[]): T[] => [...xs.slice(1), xs[0]!];

export function formatReport(title: string, s: RetrievalScores): string {
  const pct = (x: number) => x.toFixed(3);
  const misses = s.ranked
    .filter((r) => r.rank > 1)
    .map(
      (r) =>
        `  rank ${r.rank}: "${r.query}" → want ${r.target}, got ${r.top.join(', ')}${r.lureWon ? ' (lure won)' : ''}`,
    );
  return [
    `${title}: ${s.queries} queries over ${s.memories} memories`,
    `  hit@1 ${pct(s.hitAt1)}  hit@3 ${pct(s.hitAt3)}  MRR ${pct(s.mrr)}  lures above target ${s.luresAboveTarget}/${s.lureQueries}`,
    ...(misses.length ? ['  misses at rank 1:', ...misses] : []),
  ].join('\n');
}
