import { describe, expect, it } from '@jest/globals';
import { checkShape, normalize } from './embedding-provider.js';

describe('the provider contract', () => {
  it('normalize scales a vector to unit length in place, and leaves a zero vector as it is', () => {
    const v = [3, 4, 0];
    expect(normalize(v)).toBe(v);
    expect(v).toEqual([0.6, 0.8, 0]);
    const zero = [0, 0];
    expect(normalize(zero)).toEqual([0, 0]);
    const long = Array.from({ length: 512 }, (_, i) => Math.sin(i + 1));
    expect(Math.hypot(...normalize(long))).toBeCloseTo(1, 12);
  });

  it('checkShape refuses a wrong number of vectors or a wrong width, naming the provider', () => {
    expect(() => checkShape('p', ['a', 'b'], [[1, 0]], 2)).toThrow('p returned 1 vectors for 2 texts');
    expect(() => checkShape('p', ['a'], [[1, 0, 0]], 2)).toThrow('p returned a 3-d vector, expected 2');
    expect(() => checkShape('p', ['a'], [[1, 0]], 2)).not.toThrow();
  });
});
