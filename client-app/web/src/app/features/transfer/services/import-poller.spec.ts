import { describe, expect, it, jest } from '@jest/globals';
import type { ImportJob } from '@contract/bff-api';
import { importPercent, pollImport } from './import-poller';

const job = (over: Partial<ImportJob>): ImportJob => ({ id: 'j1', state: 'running', format: 'json', done: 0, total: null, ...over });

describe('pollImport', () => {
  it('polls every interval until the job is no longer running, reporting each state', async () => {
    const answers = [job({ total: 3, done: 1 }), job({ total: 3, done: 2 }), job({ state: 'done', total: 3, done: 3, result: { imported: 3, total: 3, errors: [], import_id: 'i1' } })];
    const get = jest.fn(async (id: string) => {
      expect(id).toBe('j1');
      return answers.shift()!;
    });
    const sleeps: number[] = [];
    const seen: string[] = [];
    const last = await pollImport(job({}), {
      get,
      onUpdate: (j) => seen.push(`${j.state}:${j.done}/${j.total}`),
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(last.state).toBe('done');
    expect(get).toHaveBeenCalledTimes(3);
    expect(sleeps).toEqual([300, 300, 300]);
    expect(seen).toEqual(['running:0/null', 'running:1/3', 'running:2/3', 'done:3/3']);
  });

  it('does not poll a job that already ended', async () => {
    const get = jest.fn<(id: string) => Promise<ImportJob>>();
    const last = await pollImport(job({ state: 'failed' }), { get, onUpdate: () => undefined, sleep: async () => undefined });
    expect(last.state).toBe('failed');
    expect(get).not.toHaveBeenCalled();
  });

  it('rides out a failed poll or two, then gives up', async () => {
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls < 3) throw new Error('blip');
      return job({ state: 'done', done: 1, total: 1 });
    };
    await expect(pollImport(job({}), { get: flaky, onUpdate: () => undefined, sleep: async () => undefined })).resolves.toMatchObject({ state: 'done' });

    const down = jest.fn(async () => {
      throw new Error('down');
    });
    await expect(pollImport(job({}), { get: down, onUpdate: () => undefined, sleep: async () => undefined, maxFailures: 2 })).rejects.toThrow('down');
    expect(down).toHaveBeenCalledTimes(3);
  });

  it('stops when aborted (the page was left)', async () => {
    const controller = new AbortController();
    const get = jest.fn(async () => {
      controller.abort();
      return job({ done: 1, total: 5 });
    });
    const last = await pollImport(job({}), { get, onUpdate: () => undefined, sleep: async () => undefined, signal: controller.signal });
    expect(last.done).toBe(1);
    expect(get).toHaveBeenCalledTimes(1);
  });

  it('really waits ~300 ms between polls by default', async () => {
    jest.useFakeTimers();
    try {
      const get = jest.fn(async () => job({ state: 'done', done: 1, total: 1 }));
      const p = pollImport(job({}), { get, onUpdate: () => undefined });
      await jest.advanceTimersByTimeAsync(299);
      expect(get).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      await p;
      expect(get).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('importPercent', () => {
  it('is unknown before the total, then done/total, 100 when done', () => {
    expect(importPercent({ state: 'running', done: 0, total: null })).toBeNull();
    expect(importPercent({ state: 'running', done: 1, total: 3 })).toBe(33);
    expect(importPercent({ state: 'running', done: 0, total: 0 })).toBe(100);
    expect(importPercent({ state: 'done', done: 2, total: 3 })).toBe(100);
  });
});
