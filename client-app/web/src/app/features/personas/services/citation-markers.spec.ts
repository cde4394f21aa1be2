import { describe, expect, it } from '@jest/globals';
import { numberCitations } from './citation-markers';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';

describe('numberCitations', () => {
  it("numbers markers by the result's citation order", () => {
    expect(numberCitations(`Sardines [memory:${B}] and trams [memory:${A}].`, [A, B])).toBe(
      'Sardines [2] and trams [1].',
    );
  });

  it('numbers by first mention while the citations are not known yet, one number per memory', () => {
    expect(numberCitations(`x [memory:${B}] y [memory:${A}] z [memory:${B}]`)).toBe('x [1] y [2] z [1]');
  });

  it('handles a marker that cites several memories', () => {
    expect(numberCitations(`both [memory:${A}, memory:${B}]`, [A, B])).toBe('both [1, 2]');
  });

  it('leaves other brackets and unfinished markers alone', () => {
    expect(numberCitations('a [link](x) and [memory:not-an-id] and [memory:aaaa')).toBe(
      'a [link](x) and [memory:not-an-id] and [memory:aaaa',
    );
  });
});
