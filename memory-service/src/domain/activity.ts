import { assertUuid, forbidden, PeriodicJob, type Caller, type Logger } from '@picard/service-kit';
import type { ActivityDelta, ActivityStore, DaySearches } from '../store/activity.store.js';
import { requireScope, SCOPE_READ } from './memory.validation.js';

export const SCOPE_ADMIN = 'memories:admin';
const FLUSH_MS = 2000;
/** How many days `searches_by_day` covers, today (UTC) included. */
export const SEARCH_DAYS_SHOWN = 30;
const DAY_MS = 24 * 3600 * 1000;

/** The UTC calendar day of an instant, `YYYY-MM-DD`. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/**
 * The last `days` UTC days up to `now`'s, oldest first, each with its count from `stored` (rows
 * only for days with searches) or 0, so a chart gets one point per day.
 */
export function lastDays(now: Date, days: number, stored: DaySearches[]): DaySearches[] {
  const counts = new Map(stored.map((d) => [d.date, d.count]));
  return Array.from({ length: days }, (_, i) => {
    const date = utcDay(new Date(now.getTime() - (days - 1 - i) * DAY_MS));
    return { date, count: counts.get(date) ?? 0 };
  });
}

/**
 * Counts searches and last activity in memory and adds them to the database every couple of
 * seconds, so a search never waits on a counter write. A crash loses at most that much counting.
 */
export class ActivityRecorder {
  private pending = new Map<string, ActivityDelta>();
  private job?: PeriodicJob<void>;

  constructor(
    private readonly store: ActivityStore,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private flushing: Promise<void> = Promise.resolve();

  searched(userId: string): void {
    const entry = this.bump(userId);
    entry.searches += 1;
    const day = utcDay(entry.lastActivity);
    entry.searchesByDay[day] = (entry.searchesByDay[day] ?? 0) + 1;
  }

  active(userId: string): void {
    this.bump(userId);
  }

  start(): void {
    this.job ??= new PeriodicJob({
      name: 'activity flush',
      logger: this.logger,
      run: () => this.flush(),
      everyMs: FLUSH_MS,
    });
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job?.stop();
    await this.flush();
  }

  /**
   * Saves what was counted. Flushes run one after another: a reader's flush (get_activity) must
   * wait for the timer's flush already on its way, or it would read before those counts land.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.save());
    return this.flushing;
  }

  private async save(): Promise<void> {
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
        for (const [day, n] of Object.entries(d.searchesByDay))
          b.searchesByDay[day] = (b.searchesByDay[day] ?? 0) + n;
      }
    }
  }

  private bump(userId: string): ActivityDelta {
    const entry = this.pending.get(userId) ?? {
      userId,
      searches: 0,
      searchesByDay: {},
      lastActivity: this.now(),
    };
    entry.lastActivity = this.now();
    this.pending.set(userId, entry);
    return entry;
  }
}

/** Activity of one user (their own, or anyone's for an admin) and the admin's summary of everyone. */
export class ActivityService {
  constructor(
    private readonly store: ActivityStore,
    private readonly recorder: ActivityRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async forUser(caller: Caller, userId?: string) {
    requireScope(caller, SCOPE_READ);
    const target = userId === undefined || userId === '' ? caller.userId : assertUuid('user_id', userId);
    if (target !== caller.userId && !caller.scopes.includes(SCOPE_ADMIN)) {
      throw forbidden(`another user's activity needs the ${SCOPE_ADMIN} scope`);
    }
    await this.recorder.flush();
    const now = this.now();
    const from = utcDay(new Date(now.getTime() - (SEARCH_DAYS_SHOWN - 1) * DAY_MS));
    const [row, days] = await Promise.all([
      this.store.forUser(target),
      this.store.searchesSince(target, from),
    ]);
    return { userId: target, ...row, searchesByDay: lastDays(now, SEARCH_DAYS_SHOWN, days) };
  }

  async summary(caller: Caller) {
    requireScope(caller, SCOPE_ADMIN);
    await this.recorder.flush();
    return this.store.summary();
  }
}
