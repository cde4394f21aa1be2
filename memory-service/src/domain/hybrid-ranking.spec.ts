import { describe, expect, it } from '@jest/globals';
import { DEFAULT_FUSION, fuse, fusionOptions, type Ranked } from './hybrid-ranking.js';
import { KeywordHasher } from './keyword-hasher.js';
import { countTerms, keywordTerms, MAX_QUERY_TERMS, queryTerms } from './keyword-terms.js';

describe('keyword terms', () => {
  it('folds case and accents, drops stop words and stems English words; digits stay whole', () => {
    expect(keywordTerms('The Café at 42nd St. — is OPEN!')).toEqual(['cafe', '42nd', 'st', 'open']);
    expect(keywordTerms('We adopted her; adoption papers')).toEqual(['adopt', 'adopt', 'paper']);
    expect(keywordTerms('ｆｕｌｌｗｉｄｔｈ ＡＢＣ 2025-03-07')).toEqual([
      'fullwidth',
      'abc',
      '2025',
      '03',
      '07',
    ]);
  });

  it('counts frequencies and the length in terms', () => {
    const { counts, length } = countTerms('hiking, hikes and more hiking in Lisbon');
    expect(Object.fromEntries(counts)).toEqual({ hike: 3, lisbon: 1 });
    expect(length).toBe(4);
  });

  it('caps a query at MAX_QUERY_TERMS distinct terms however long it is', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `word${i}`).join(' ');
    expect(queryTerms(words)).toHaveLength(MAX_QUERY_TERMS);
    expect(queryTerms('lisbon Lisbon LISBON')).toEqual(['lisbon']);
  });
});

describe('keyword hasher', () => {
  const k = (id: string, byte: number) => ({ id, key: Buffer.alloc(32, byte) });

  it('blinds terms: equal words give equal markers, no word appears in the index', () => {
    const h = new KeywordHasher([k('k1', 1)], 'k1');
    const a = h.index('Biscuit came home from the shelter');
    const b = h.index('shelter visit for Biscuit');
    const shared = [...a.terms.keys()].filter((t) => b.terms.has(t));
    expect(shared).toHaveLength(2);
    expect(JSON.stringify([...a.terms])).not.toMatch(/biscuit|shelter/i);
    expect(a.keyId).toBe('k1');
  });

  it('uses a different index key per text key, and queries under every configured key', () => {
    const old = new KeywordHasher([k('k1', 1)], 'k1');
    const rotated = new KeywordHasher([k('k1', 1), k('k2', 2)], 'k2');
    const before = [...old.index('lisbon').terms.keys()][0]!;
    const after = [...rotated.index('lisbon').terms.keys()][0]!;
    expect(after).not.toBe(before);
    expect(rotated.query('Lisbon')).toEqual([[before, after]]);
  });
});

describe('fusion', () => {
  const v = (id: string, similarity: number, keywordScore?: number): Ranked => ({
    id,
    similarity,
    keywordScore,
  });

  it('rrf: a memory found by both lists beats one found by either list alone', () => {
    const vector = [v('a', 0.9), v('b', 0.8), v('c', 0.7)];
    const keyword = [v('z', 0.1, 9), v('c', 0.7, 5)];
    expect(fuse(vector, keyword, { method: 'rrf', keywordWeight: 1 }).map((m) => m.id)).toEqual([
      'c',
      'a',
      'z',
      'b',
    ]);
  });

  it('weighted: similarity plus a keyword bonus of at most the weight', () => {
    const vector = [v('a', 0.8), v('b', 0.75), v('c', 0.7)];
    const keyword = [v('b', 0.75, 0.9), v('c', 0.7, 3), v('z', 0.5, 0.1)];
    const fused = fuse(vector, keyword, { method: 'weighted', keywordWeight: 0.2 });
    // b: 0.75 + 0.18; c: 0.7 + 0.2 (capped); a: 0.8; z: 0.5 + 0.02
    expect(fused.map((m) => m.id)).toEqual(['b', 'c', 'a', 'z']);
    expect(fused[0]!.keywordScore).toBe(0.9);
  });

  it('configured fusion: the measured weight for the default method, 1 for RRF, or the given weight', () => {
    expect(fusionOptions('weighted')).toEqual(DEFAULT_FUSION);
    expect(fusionOptions('rrf')).toEqual({ method: 'rrf', keywordWeight: 1 });
    expect(fusionOptions('weighted', 0.4)).toEqual({ method: 'weighted', keywordWeight: 0.4 });
  });

  it('with an empty keyword list keeps the vector order', () => {
    const vector = [v('a', 0.9), v('b', 0.9), v('c', 0.1)];
    for (const method of ['rrf', 'weighted'] as const)
      expect(fuse(vector, [], { method, keywordWeight: 0.5 }).map((m) => m.id)).toEqual(['a', 'b', 'c']);
  });
});
