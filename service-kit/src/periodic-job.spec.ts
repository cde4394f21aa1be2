import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createLogger } from './logger.js';
import { PeriodicJob } from './periodic-job.js';

/** A logger whose warnings the test reads. */
function recordingLogger() {
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const logger = createLogger('test', 'silent');
  logger.warn = ((obj: Record<string, unknown>, msg: string) =>
    warnings.push({ obj, msg })) as unknown as typeof logger.warn;
  return { logger, warnings };
}

describe('PeriodicJob', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('runs after the first wait, then every interval, never two runs at once', async () => {
    const { logger } = recordingLogger();
    let active = 0;
    let most = 0;
    let runs = 0;
    const job = new PeriodicJob({
      name: 'slow job',
      logger,
      everyMs: 1000,
      firstAfterMs: 100,
      jitter: 0,
      run: async () => {
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 2500)); // longer than the interval
        active--;
        runs++;
      },
    });
    job.start();
    await jest.advanceTimersByTimeAsync(99);
    expect(active).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(active).toBe(1);
    // A run asked for meanwhile joins the one on its way.
    const joined = job.runNow();
    await jest.advanceTimersByTimeAsync(2500);
    await joined;
    expect(runs).toBe(1);
    // The next starts an interval after the previous ended.
    await jest.advanceTimersByTimeAsync(999);
    expect(active).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(active).toBe(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(most).toBe(1);
    await job.stop();
  });

  it('logs a failed run with the job name and carries on; runNow rejects with the error', async () => {
    const { logger, warnings } = recordingLogger();
    let calls = 0;
    const job = new PeriodicJob({
      name: 'flaky job',
      logger,
      everyMs: 1000,
      jitter: 0,
      run: async () => {
        calls++;
        if (calls === 1) throw new Error('database away');
        return calls;
      },
    });
    job.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'flaky job failed; retrying later',
        obj: expect.objectContaining({ job: 'flaky job' }),
      }),
    ]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    await job.stop();
    const direct = new PeriodicJob({
      name: 'direct',
      logger,
      everyMs: 1000,
      run: async () => Promise.reject(new Error('no')),
    });
    await expect(direct.runNow()).rejects.toThrow('no');
  });

  it('follows nextAfterMs, runSoon moves the next run to now, and stop waits for the run in progress', async () => {
    const { logger } = recordingLogger();
    const starts: number[] = [];
    let finish: (() => void) | undefined;
    const job = new PeriodicJob<number>({
      name: 'drain',
      logger,
      everyMs: 1000,
      firstAfterMs: 0,
      jitter: 0,
      run: async () => {
        starts.push(Date.now());
        await new Promise<void>((r) => (finish = r));
        return starts.length;
      },
      nextAfterMs: ({ result }) => (result === 1 ? 0 : 1000), // "a full batch": go again at once
    });
    const t0 = Date.now();
    job.start();
    await jest.advanceTimersByTimeAsync(0);
    finish!();
    await jest.advanceTimersByTimeAsync(0);
    expect(starts.map((s) => s - t0)).toEqual([0, 0]);
    finish!();
    await jest.advanceTimersByTimeAsync(300);
    job.runSoon();
    await jest.advanceTimersByTimeAsync(0);
    expect(starts.map((s) => s - t0)).toEqual([0, 0, 300]);
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish!();
    await stopping;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(starts).toHaveLength(3);
  });

  it('spreads each wait by the jitter, within its bounds', async () => {
    const { logger } = recordingLogger();
    const starts: number[] = [];
    const job = new PeriodicJob({
      name: 'jittered',
      logger,
      everyMs: 1000,
      jitter: 0.2,
      run: async () => starts.push(Date.now()),
    });
    const t0 = Date.now();
    job.start();
    await jest.advanceTimersByTimeAsync(20_000);
    await job.stop();
    const gaps = starts.map((s, i) => s - (i ? starts[i - 1]! : t0));
    expect(gaps.length).toBeGreaterThanOrEqual(16);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(800);
      expect(g).toBeLessThanOrEqual(1200);
    }
    expect(new Set(gaps).size).toBeGreaterThan(1);
  });
});
