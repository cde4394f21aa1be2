import { LRUCache } from 'lru-cache';
import type { Knex } from '@picard/service-kit';
import type { IndexedTerms } from '../domain/keyword-hasher.js';
import { SEALED_COLUMNS, sealedFrom, type SealedColumns } from './sealed-rows.js';
import type { SealedRow } from './key-rotation.store.js';

/** BM25 parameters (the usual ones). */
const K1 = 1.2;
const B = 0.75;
/**
 * The postings one query may read, shared evenly among its words: a word found in more memories
 * than its share is left out of the keyword score. Such a word says little (its idf is low) and
 * counting and scoring its postings would cost the most, so a query counts at most this many
 * index entries and scores at most this many postings, however long it is (1-2 ms at 100,000
 * memories). A short query's words each get a large share (5 words: 2,000 memories each).
 */
export const QUERY_POSTING_BUDGET = 10_000;
/** Not below this per word, so a 32-word query still scores words found in a few hundred memories. */
const MIN_WORD_POSTINGS = 300;

export const wordPostingCap = (words: number) =>
  Math.max(MIN_WORD_POSTINGS, Math.floor(QUERY_POSTING_BUDGET / Math.max(words, 1)));

/** Postings per INSERT (sent as four arrays). */
const TERM_CHUNK = 2000;
/** How long the corpus size and average length are reused (they move slowly; BM25 tolerates it). */
const STATS_TTL_MS = 30_000;
/**
 * Posting counts from this size on are remembered for STATS_TTL_MS: a common word's count costs
 * the most to read (up to its share of the budget in index entries, on every query that has it)
 * and changes its idf least. Rarer terms are counted afresh each time: cheap, and exact, so a word
 * that was in no memory a moment ago is found as soon as a memory has it.
 */
const CACHED_COUNT_MIN = 100;
/** Distinct blinded terms whose counts are remembered (a few dozen bytes each). */
const CACHED_COUNTS = 50_000;

export interface CorpusStats {
  documents: number;
  averageLength: number;
}

/**
 * Writes the keyword entries of these memories inside the caller's transaction, replacing any
 * they had (`fresh`: the memories were created in this transaction, so there is nothing to replace).
 */
export async function writeKeywords(
  trx: Knex.Transaction,
  entries: readonly { memoryId: string; indexed: IndexedTerms }[],
  fresh = false,
): Promise<void> {
  if (entries.length === 0) return;
  if (!fresh)
    await trx('memory_keywords')
      .whereIn(
        'memory_id',
        entries.map((e) => e.memoryId),
      )
      .delete();
  await trx('memory_keywords').insert(
    entries.map((e) => ({ memory_id: e.memoryId, key_id: e.indexed.keyId, term_count: e.indexed.length })),
  );
  const postings = entries.flatMap((e) =>
    [...e.indexed.terms].map(([term, tf]) => ({ term, memoryId: e.memoryId, tf, dl: e.indexed.length })),
  );
  // Each posting takes its memory's owner and privacy from the memory itself (migration 011).
  for (let i = 0; i < postings.length; i += TERM_CHUNK) {
    const chunk = postings.slice(i, i + TERM_CHUNK);
    await trx.raw(
      `INSERT INTO memory_terms (term, memory_id, tf, dl, user_id, private)
       SELECT p.term, p.memory_id, p.tf, p.dl, m.user_id, m.permission = 'private'
         FROM unnest(?::bigint[], ?::uuid[], ?::int[], ?::int[]) AS p(term, memory_id, tf, dl)
         JOIN memories m ON m.id = p.memory_id`,
      [
        chunk.map((p) => p.term),
        chunk.map((p) => p.memoryId),
        chunk.map((p) => p.tf),
        chunk.map((p) => p.dl),
      ],
    );
  }
}

/**
 * A query's searchable words, blinded, each with its BM25 idf: every query word found in fewer
 * memories than its share of the posting budget, each of its blinded terms (one per index key)
 * carrying the word's idf. `ideal` is the sum of those idf and of the idf a word in no memory
 * would have, once for each query word found nowhere (see `keywordScores`).
 */
export interface WeightedTerms {
  terms: string[];
  idf: number[];
  ideal: number;
  averageLength: number;
}

/**
 * The keyword-scoring subquery: each memory containing any of the weighted terms with its BM25
 * score, best first, relative to the query's ideal: 1 ≈ every query word once in a memory of
 * average length (but the common words left out by the budget), so a memory sharing only a common
 * word scores near 0 and one sharing all the rare words near 1, whichever memories happen to be
 * candidates. A query word no memory holds still counts in the ideal, so a memory sharing one word
 * of a query whose other words are found nowhere gets a part of the score, not all of it. Only postings `viewer` may
 * see can score: their own, and other users' that are not private (each posting carries its
 * memory's owner and privacy, migration 011), each part read from its own covering index. The
 * caller applies the visibility rule itself on the result: it is ordered, so a join that keeps that
 * order (a nested loop over the memories' key) stops after the caller's LIMIT visible rows.
 */
export function keywordScores(db: Knex | Knex.Transaction, weighted: WeightedTerms, viewer: string) {
  return db.raw(
    `WITH w AS (SELECT * FROM unnest(?::bigint[], ?::float8[]) AS w(term, idf))
    SELECT t.memory_id,
           (sum(w.idf * t.tf * ?::float8 / (t.tf + ?::float8 * (?::float8 + ?::float8 * t.dl / ?::float8)))
             / ?::float8)::float8 AS score
      FROM w CROSS JOIN LATERAL (
             SELECT x.memory_id, x.tf, x.dl FROM memory_terms x WHERE x.term = w.term AND x.user_id = ?
             UNION ALL
             SELECT x.memory_id, x.tf, x.dl FROM memory_terms x
              WHERE x.term = w.term AND NOT x.private AND x.user_id <> ?) t
     GROUP BY t.memory_id
     ORDER BY score DESC, t.memory_id`,
    [
      weighted.terms,
      weighted.idf,
      K1 + 1,
      K1,
      1 - B,
      B,
      Math.max(weighted.averageLength, 1),
      weighted.ideal,
      viewer,
      viewer,
    ],
  );
}

/** A term's posting count as last read: exact, or (`exact` false) at least `n`. */
interface PostingCount {
  n: number;
  exact: boolean;
}

/** Reads of the keyword index outside a search: corpus statistics and the indexing job's batches. */
export class KeywordStore {
  private stats?: { value: CorpusStats; at: number };
  private readonly counts = new LRUCache<string, PostingCount>({ max: CACHED_COUNTS, ttl: STATS_TTL_MS });

  constructor(readonly knex: Knex) {}

  /**
   * Weighs a query's blinded terms (grouped per word, one entry per index key, as
   * KeywordHasher.query gives them). Document frequencies are counted over every memory, capped
   * at the word's share of the budget, so scores rank well without reading anyone's text; a word
   * in more memories than its share is left out (its idf is low and its postings cost the most).
   */
  async weigh(groups: readonly string[][]): Promise<WeightedTerms> {
    const stats = await this.corpusStats();
    const cap = wordPostingCap(groups.length);
    const counts = await this.postingCounts(groups.flat(), cap);
    const documents = Math.max(stats.documents, 1);
    const weighted: WeightedTerms = { terms: [], idf: [], ideal: 0, averageLength: stats.averageLength };
    for (const group of groups) {
      const df = group.reduce((sum, term) => sum + Math.min(counts.get(term) ?? 0, cap), 0);
      if (df >= cap) continue;
      const idf = Math.log(1 + (documents - df + 0.5) / (df + 0.5));
      weighted.ideal += idf;
      // A word in no memory has no postings to read, but stays in the ideal: left out, a memory
      // sharing the one known word of "how much will it cost to fix my phone" ("I need to phone
      // the bank") got the full score and outranked the cracked screen's (bench:fusion).
      if (df === 0) continue;
      for (const term of group) {
        weighted.terms.push(term);
        weighted.idf.push(idf);
      }
    }
    return weighted;
  }

  /** How many memories hold each term, read up to `cap` (a count of `cap` means "at least"). */
  private async postingCounts(terms: readonly string[], cap: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const unknown: string[] = [];
    for (const term of new Set(terms)) {
      const known = this.counts.get(term);
      if (known && (known.exact || known.n >= cap)) out.set(term, known.n);
      else unknown.push(term);
    }
    if (unknown.length === 0) return out;
    const { rows } = await this.knex.raw<{ rows: { term: string; n: number }[] }>(
      `SELECT q.term::text AS term,
              (SELECT count(*) FROM (SELECT 1 FROM memory_terms t WHERE t.term = q.term LIMIT ?) capped)::int AS n
         FROM unnest(?::bigint[]) AS q(term)`,
      [cap, unknown],
    );
    for (const { term, n } of rows) {
      out.set(term, n);
      if (n >= CACHED_COUNT_MIN) this.counts.set(term, { n, exact: n < cap });
    }
    return out;
  }

  async corpusStats(): Promise<CorpusStats> {
    if (this.stats && performance.now() - this.stats.at < STATS_TTL_MS) return this.stats.value;
    const [row] = await this.knex('memory_keywords').select(
      this.knex.raw('count(*)::int AS n'),
      this.knex.raw('coalesce(avg(term_count), 0)::float8 AS avgdl'),
    );
    const value = { documents: Number(row?.n ?? 0), averageLength: Number(row?.avgdl ?? 0) };
    this.stats = { value, at: performance.now() };
    return value;
  }

  /** Many rows changed at once: the next search recounts. */
  forgetStats(): void {
    this.stats = undefined;
    this.counts.clear();
  }

  /** Memories whose keyword entry is missing or blinded under another key than `keyId`. */
  async countStale(keyId: string): Promise<number> {
    const [row] = await this.stale(this.knex, keyId).count<{ n: string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }

  /**
   * One batch in one transaction: locks up to `limit` stale memories after `after` (keyset by
   * id; rows a writer holds are skipped and picked up by a later pass), and writes the entries
   * `index` makes from their sealed text (undefined: the text could not be opened, left as is).
   */
  async indexBatch(
    keyId: string,
    after: string | undefined,
    limit: number,
    index: (row: SealedRow) => IndexedTerms | undefined,
  ): Promise<{ seen: number; indexed: number; failedIds: string[]; lastId?: string }> {
    return this.knex.transaction(async (trx) => {
      const q = this.stale(trx, keyId)
        .select('m.id', ...SEALED_COLUMNS.map((c) => `m.${c}`))
        .orderBy('m.id')
        .limit(Math.trunc(limit))
        .forUpdate('m')
        .skipLocked();
      if (after) q.where('m.id', '>', after);
      const rows: (SealedColumns & { id: string })[] = await q;
      const entries: { memoryId: string; indexed: IndexedTerms }[] = [];
      const failedIds: string[] = [];
      for (const r of rows) {
        const indexed = index({ id: r.id, memoryId: r.id, sealed: sealedFrom(r) });
        if (indexed) entries.push({ memoryId: r.id, indexed });
        else failedIds.push(r.id);
      }
      await writeKeywords(trx, entries);
      return { seen: rows.length, indexed: entries.length, failedIds, lastId: rows.at(-1)?.id };
    });
  }

  private stale(db: Knex | Knex.Transaction, keyId: string) {
    return db({ m: 'memories' })
      .leftJoin({ k: 'memory_keywords' }, 'k.memory_id', 'm.id')
      .where((w) => w.whereNull('k.memory_id').orWhereNot('k.key_id', keyId));
  }
}
