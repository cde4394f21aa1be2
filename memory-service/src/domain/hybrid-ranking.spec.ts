import { describe, expect, it } from '@jest/globals';
import { bm25, fuseRanks, tokenize } from './hybrid-ranking.js';

describe('hybrid ranking', () => {
  it('tokenizes words and numbers, dropping stop words and case', () => {
    expect(tokenize('The Café at 42nd St. — is OPEN!')).toEqual(['cafe', '42nd', 'st', 'open']);
  });

  it('scores rare query terms above common ones and unmatched documents at zero', () => {
    const [rare, common, alsoCommon, none] = bm25('zephyr meeting', [
      'zephyr notes',
      'meeting notes',
      'meeting lunch',
      'tea',
    ]);
    expect(rare).toBeGreaterThan(common!);
    expect(alsoCommon).toBeCloseTo(common!, 9);
    expect(none).toBe(0);
  });

  it('lifts a keyword match over vector neighbours without one, and keeps vector order otherwise', () => {
    const docs = ['alpha one', 'beta two', 'gamma zephyr'];
    expect(fuseRanks('zephyr', docs, (d) => d)).toEqual(['gamma zephyr', 'alpha one', 'beta two']);
    expect(fuseRanks('nothing matches', docs, (d) => d)).toEqual(docs);
  });
});
