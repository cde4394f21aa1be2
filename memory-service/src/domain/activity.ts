import { assertUuid, forbidden, type Caller, type Logger } from '@picard/service-kit';
import type { ActivityDelta, ActivityStore } from '../store/activity.store.js';
import { requireScope, SCOPE_READ } from './memory.validation.js';

export const SCOPE_ADMIN = 'memories:admin';
const FLUSH_MS = 2000;

/**
 * Counts searches and last activity in memory and adds them to the database every couple of
 * seconds, so a search never waits on a counter write. A crash loses at most that much counting.
 */
export class ActivityRecorder {
  private pending = new Map<string, ActivityDelta>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: ActivityStore,
    private readonly logger: Logger,
  ) {}

  searched(userId: string): void {
    this.bump(userId).searches += 1;
  }

  active(userId: string): void {
    this.bump(userId);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const deltas = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.add(deltas);
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message },
        'activity counters not saved; retrying with the next flush',
      );
      for (const d of deltas) {
        const b = this.bump(d.userId);
        b.searches += d.searches;
      }
    }
  }

  private bump(userId: string): ActivityDelta {
    const entry = this.pending.get(userId) ?? { userId, searches: 0, lastActivity: new Date() };
    entry.lastActivity = new Date();
    this.pending.set(userId, entry);
    return entry;
  }
}

/** Activity of one user (their own, or anyone's for an admin) and the admin's summary of everyone. */
export class ActivityService {
  constructor(
    private readonly store: ActivityStore,
    private readonly recorder: ActivityRecorder,
  ) {}

  async forUser(caller: Caller, userId?: string) {
    requireScope(caller, SCOPE_READ);
    const target = userId === undefined || userId === '' ? caller.userId : assertUuid('user_id', userId);
    if (target !== caller.userId && !caller.scopes.includes(SCOPE_ADMIN)) {
      throw forbidden(`another user's activity needs the ${SCOPE_ADMIN} scope`);
    }
    await this.recorder.flush();
    return { userId: target, ...(await this.store.forUser(target)) };
  }

  async summary(caller: Caller) {
    requireScope(caller, SCOPE_ADMIN);
    await this.recorder.flush();
    return this.store.summary();
  }
}
