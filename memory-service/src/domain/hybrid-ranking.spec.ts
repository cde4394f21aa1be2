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

  it('adds a bounded keyword bonus: it breaks near-ties toward exact terms but never outweighs meaning', () => {
    const docs = [
      { text: 'alpha one', sim: 0.8 },
      { text: 'beta two', sim: 0.75 },
      { text: 'gamma zephyr', sim: 0.72 },
      { text: 'delta zephyr', sim: 0.5 },
    ];
    const order = (q: string) =>
      fuseRanks(
        q,
        docs,
        (d) => d.text,
        (d) => d.sim,
      ).map((d) => d.text);
    expect(order('zephyr')).toEqual(['gamma zephyr', 'alpha one', 'beta two', 'delta zephyr']);
    expect(order('nothing matches')).toEqual(docs.map((d) => d.text));
  });
});
