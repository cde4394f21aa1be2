/** Pure geometry of the dashboard's small SVG charts, apart from the components so that it is testable. */

export interface Bar {
  label: string;
  value: number;
}

export interface BarRect extends Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Vertical bars in a width × height box: equal slots with `gap` between them, heights proportional
 * to value against the largest (an all-zero chart has zero-height bars, never NaN).
 */
export function barLayout(
  bars: Bar[],
  width: number,
  height: number,
  gap = 12,
  maxBarWidth = Infinity,
): BarRect[] {
  if (bars.length === 0) return [];
  const max = Math.max(0, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const slot = (width - gap * (bars.length - 1)) / bars.length;
  const barWidth = Math.min(slot, maxBarWidth);
  return bars.map((b, i) => {
    const v = Number.isFinite(b.value) && b.value > 0 ? b.value : 0;
    const h = max > 0 ? (v / max) * height : 0;
    return { ...b, x: i * (slot + gap) + (slot - barWidth) / 2, y: height - h, width: barWidth, height: h };
  });
}

export interface Point {
  date: string;
  count: number;
}

/** An SVG path through the points, evenly spaced in x, y scaled to the largest count (0 at the bottom). */
export function linePath(
  points: Point[],
  width: number,
  height: number,
): { d: string; dots: { x: number; y: number }[] } {
  if (points.length === 0) return { d: '', dots: [] };
  const max = Math.max(0, ...points.map((p) => p.count));
  const step = points.length > 1 ? width / (points.length - 1) : 0;
  const dots = points.map((p, i) => ({
    x: points.length > 1 ? i * step : width / 2,
    y: max > 0 ? height - (Math.max(0, p.count) / max) * height : height,
  }));
  const d = dots.map((pt, i) => `${i === 0 ? 'M' : 'L'}${round(pt.x)} ${round(pt.y)}`).join(' ');
  return { d, dots };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** `searches_by_day` when the activity result has it (a later gateway may add it), else null. */
export function searchesByDay(activity: unknown): Point[] | null {
  const raw = (activity as { searches_by_day?: unknown } | null)?.searches_by_day;
  if (!Array.isArray(raw)) return null;
  const points = raw
    .filter(
      (p): p is Point =>
        typeof p === 'object' &&
        p !== null &&
        typeof (p as Point).date === 'string' &&
        typeof (p as Point).count === 'number',
    )
    .map((p) => ({ date: p.date, count: p.count }))
    .sort((a, b) => a.date.localeCompare(b.date));
  return points.length ? points : null;
}
