/**
 * Follows an import job: GET /bff/imports/{id} every `intervalMs` until its state is not `running`,
 * reporting each answer. A failed poll is retried a few times (a blip must not lose the progress);
 * then the error propagates.
 */
import type { ImportJob } from '@contract/bff-api';

export interface PollOptions {
  get: (id: string) => Promise<ImportJob>;
  onUpdate: (job: ImportJob) => void;
  intervalMs?: number;
  /** Consecutive failed polls tolerated. */
  maxFailures?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Stops polling (page left); resolves with the last job seen. */
  signal?: AbortSignal;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function pollImport(first: ImportJob, options: PollOptions): Promise<ImportJob> {
  const { get, onUpdate, intervalMs = 300, maxFailures = 3, sleep = defaultSleep, signal } = options;
  let job = first;
  let failures = 0;
  onUpdate(job);
  while (job.state === 'running' && !signal?.aborted) {
    await sleep(intervalMs);
    if (signal?.aborted) break;
    try {
      job = await get(job.id);
      failures = 0;
      onUpdate(job);
    } catch (err) {
      if (++failures > maxFailures) throw err;
    }
  }
  return job;
}

/** The import's share done, 0-100, or null while the total is unknown. */
export function importPercent(job: Pick<ImportJob, 'done' | 'total' | 'state'>): number | null {
  if (job.state === 'done') return 100;
  if (job.total === null || job.total === undefined) return null;
  if (job.total === 0) return 100;
  return Math.max(0, Math.min(100, Math.round((job.done / job.total) * 100)));
}
