/**
 * The load loop of the benchmarks' client processes (plain JavaScript: they run without a loader):
 * `count` tasks over `concurrency` callers, each sample one task's duration in ms. bench/stats.ts
 * has the same loop for the TypeScript benchmarks.
 */
export async function measure(count, concurrency, task) {
  const samples = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await task(i, worker);
        samples.push(performance.now() - t0);
      }
    }),
  );
  return samples;
}
