import { randomUUID } from 'node:crypto';
import type { ImportFormat, ImportJob } from '../../contract/bff-api.js';

/** A finished job stays readable this long. */
const KEEP_MS = 60 * 60_000;

interface Entry {
  owner: string;
  job: ImportJob;
  finishedAt?: number;
}

/**
 * Import jobs, in this process's memory: a job lives while it runs and for an hour after it ends,
 * and is lost on restart (the memories it wrote are not). Only its owner may read it.
 */
export class ImportJobs {
  private readonly entries = new Map<string, Entry>();

  start(owner: string, format: ImportFormat, run: (job: ImportJob) => Promise<void>): ImportJob {
    this.sweep();
    const job: ImportJob = { id: randomUUID(), state: 'running', format, done: 0, total: null };
    const entry: Entry = { owner, job };
    this.entries.set(job.id, entry);
    void run(job).finally(() => {
      entry.finishedAt = Date.now();
    });
    return { ...job };
  }

  get(owner: string, id: string): ImportJob | undefined {
    const e = this.entries.get(id);
    return e && e.owner === owner ? { ...e.job } : undefined;
  }

  private sweep() {
    const now = Date.now();
    for (const [id, e] of this.entries)
      if (e.finishedAt && now - e.finishedAt > KEEP_MS) this.entries.delete(id);
  }
}
