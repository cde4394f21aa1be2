/**
 * A seeded PRNG (mulberry32) for tests that need random-looking data: the same seed gives the same
 * numbers on every run, so a failure replays. Hand-written on purpose: six lines, where
 * fast-check's generators (our one property-testing dependency) would be far slower for the
 * millions of vector components some suites draw.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
