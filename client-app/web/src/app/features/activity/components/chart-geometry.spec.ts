import { describe, expect, it } from '@jest/globals';
import { barLayout, linePath, searchesByDay } from './chart-geometry';

describe('barLayout', () => {
  it('gives equal slots with gaps and heights proportional to the largest value', () => {
    const rects = barLayout(
      [
        { label: 'Private', value: 10 },
        { label: 'Public', value: 5 },
        { label: 'Shared', value: 0 },
      ],
      300,
      100,
      15,
    );
    expect(rects.map((r) => r.width)).toEqual([90, 90, 90]);
    expect(rects.map((r) => r.x)).toEqual([0, 105, 210]);
    expect(rects.map((r) => r.height)).toEqual([100, 50, 0]);
    expect(rects.map((r) => r.y)).toEqual([0, 50, 100]);
  });

  it('caps the bar width, centring each bar in its slot', () => {
    const [only] = barLayout([{ label: 'Searches', value: 3 }], 300, 100, 12, 80);
    expect(only).toMatchObject({ x: 110, width: 80, height: 100, y: 0 });
  });

  it('draws an all-zero chart flat, never NaN, and an empty one as nothing', () => {
    const rects = barLayout(
      [
        { label: 'a', value: 0 },
        { label: 'b', value: NaN },
      ],
      100,
      50,
    );
    expect(rects.every((r) => r.height === 0 && r.y === 50)).toBe(true);
    expect(barLayout([], 100, 50)).toEqual([]);
  });
});

describe('linePath', () => {
  it('spreads points over the width and scales counts to the height', () => {
    const { d, dots } = linePath(
      [
        { date: '2026-01-01', count: 0 },
        { date: '2026-01-02', count: 4 },
        { date: '2026-01-03', count: 2 },
      ],
      200,
      100,
    );
    expect(dots).toEqual([
      { x: 0, y: 100 },
      { x: 100, y: 0 },
      { x: 200, y: 50 },
    ]);
    expect(d).toBe('M0 100 L100 0 L200 50');
  });

  it('centres a single point', () => {
    expect(linePath([{ date: 'd', count: 3 }], 200, 100).dots).toEqual([{ x: 100, y: 0 }]);
  });
});

describe('searchesByDay', () => {
  it('reads a well-formed searches_by_day, sorted by date', () => {
    expect(
      searchesByDay({
        searches: 3,
        searches_by_day: [{ date: '2026-01-02', count: 1 }, { date: '2026-01-01', count: 2 }, { nope: 1 }],
      }),
    ).toEqual([
      { date: '2026-01-01', count: 2 },
      { date: '2026-01-02', count: 1 },
    ]);
  });

  it("is null when the activity result has none (today's gateway)", () => {
    expect(searchesByDay({ searches: 3 })).toBeNull();
    expect(searchesByDay({ searches_by_day: 'x' })).toBeNull();
    expect(searchesByDay(null)).toBeNull();
  });
});
