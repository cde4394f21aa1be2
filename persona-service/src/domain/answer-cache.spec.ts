import { describe, expect, it } from '@jest/globals';
import { newId } from '@picard/service-kit';
import { AnswerCache } from './answer-cache.js';

const value = (answer: string) => ({ answer, citations: [] });

describe('answer cache', () => {
  const parts = (memories: { id: string; updatedAt?: Date }[]) => ({
    ownerId: 'o',
    prompt: 'p',
    personaVersion: 'v',
    model: 'm',
    memories,
  });

  it('keys by the visible-memory set, in any order, and its versions', () => {
    const [a, b] = [newId(), newId()];
    const t = new Date(1000);
    expect(
      AnswerCache.key(
        parts([
          { id: a, updatedAt: t },
          { id: b, updatedAt: t },
        ]),
      ),
    ).toBe(
      AnswerCache.key(
        parts([
          { id: b, updatedAt: t },
          { id: a, updatedAt: t },
        ]),
      ),
    );
    const base = AnswerCache.key(parts([{ id: a, updatedAt: t }]));
    expect(AnswerCache.key(parts([{ id: a, updatedAt: new Date(2000) }]))).not.toBe(base);
    expect(
      AnswerCache.key(
        parts([
          { id: a, updatedAt: t },
          { id: b, updatedAt: t },
        ]),
      ),
    ).not.toBe(base);
    expect(AnswerCache.key({ ...parts([{ id: a, updatedAt: t }]), personaVersion: 'w' })).not.toBe(base);
    expect(AnswerCache.key({ ...parts([{ id: a, updatedAt: t }]), prompt: 'q' })).not.toBe(base);
  });

  it('evicts the least recently used entry and drops a user\u2019s entries on demand', () => {
    const cache = new AnswerCache(2);
    cache.set('k1', 'u1', value('1'));
    cache.set('k2', 'u2', value('2'));
    expect(cache.get('k1')?.answer).toBe('1'); // k2 is now the oldest
    cache.set('k3', 'u1', value('3'));
    expect([cache.get('k1')?.answer, cache.get('k2'), cache.get('k3')?.answer]).toEqual([
      '1',
      undefined,
      '3',
    ]);
    expect(cache.invalidateUser('u1')).toBe(2);
    expect(cache.size).toBe(0);
  });
});
