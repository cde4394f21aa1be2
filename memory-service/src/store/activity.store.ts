import type { Knex } from '@picard/service-kit';
import { whereNotExpired } from './visibility.js';

export interface ActivityDelta {
  userId: string;
  searches: number;
  /** The same searches by UTC day (`YYYY-MM-DD`), so a flush across midnight splits them right. */
  searchesByDay: Record<string, number>;
  lastActivity: Date;
}

export interface DaySearches {
  date: string;
  count: number;
}

export interface ActivityRow {
  memoriesByPermission: Record<string, number>;
  searches: number;
  lastActivity: Date | null;
}

const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));

/** Per-user counters: searches and last activity are kept; memory counts are read from the memories. */
export class ActivityStore {
  constructor(readonly knex: Knex) {}

  /**
   * Adds deltas, the totals and the per-day counts in one transaction (so a retried flush never
   * counts twice); concurrent instances add up instead of overwriting each other.
   */
  async add(deltas: ActivityDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    // One lock order for every instance (by user, then day), so concurrent flushes never deadlock.
    deltas = [...deltas].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    const days = deltas.flatMap((d) =>
      Object.entries(d.searchesByDay)
        .filter(([, n]) => n > 0)
        .map(([day, n]) => ({ user_id: d.userId, day, searches: n }))
        .sort((a, b) => (a.day < b.day ? -1 : 1)),
    );
    await this.knex.transaction(async (trx) => {
      await trx('user_activity')
        .insert(
          deltas.map((d) => ({ user_id: d.userId, searches: d.searches, last_activity: d.lastActivity })),
        )
        .onConflict('user_id')
        .merge({
          searches: trx.raw('user_activity.searches + excluded.searches'),
          last_activity: trx.raw('GREATEST(user_activity.last_activity, excluded.last_activity)'),
        });
      if (days.length === 0) return;
      await trx('user_search_days')
        .insert(days)
        .onConflict(['user_id', 'day'])
        .merge({ searches: trx.raw('user_search_days.searches + excluded.searches') });
    });
  }

  /** A user's searches per UTC day from `fromDay` (`YYYY-MM-DD`) on; days without searches have no row. */
  async searchesSince(userId: string, fromDay: string): Promise<DaySearches[]> {
    const rows = await this.knex('user_search_days')
      .select(this.knex.raw(`to_char(day, 'YYYY-MM-DD') AS date`), 'searches')
      .where({ user_id: userId })
      .andWhere('day', '>=', fromDay)
      .orderBy('day');
    return (rows as { date: string; searches: string | number }[]).map((r) => ({
      date: r.date,
      count: Number(r.searches),
    }));
  }

  /** A user's stored (not yet swept) memories that are still live, by permission, plus their counters. */
  async forUser(userId: string): Promise<ActivityRow> {
    const counts = await this.liveByPermission(userId);
    const row = await this.knex('user_activity')
      .where({ user_id: userId })
      .first<{ searches: string | number; last_activity: Date | string } | undefined>();
    return {
      memoriesByPermission: counts,
      searches: Number(row?.searches ?? 0),
      lastActivity: row ? toDate(row.last_activity) : null,
    };
  }

  /** Stored memories that have not expired, by permission: everyone's, or one user's. */
  private async liveByPermission(userId?: string): Promise<Record<string, number>> {
    const q = this.knex('memories')
      .select('permission')
      .count({ count: '*' })
      .where(whereNotExpired())
      .groupBy('permission');
    if (userId) q.where({ user_id: userId });
    const out: Record<string, number> = { private: 0, public: 0, shared: 0 };
    for (const c of (await q) as { permission: string; count: string }[]) out[c.permission] = Number(c.count);
    return out;
  }

  async summary(): Promise<{
    users: number;
    memories: number;
    memoriesByPermission: Record<string, number>;
    searches: number;
  }> {
    const memoriesByPermission = await this.liveByPermission();
    const users = await this.knex.raw<{ rows: { n: string }[] }>(
      'SELECT count(*) AS n FROM (SELECT user_id FROM memories UNION SELECT user_id FROM user_activity) AS u',
    );
    const searches = (await this.knex('user_activity').sum({ s: 'searches' }).first()) as
      { s: string | null } | undefined;
    return {
      users: Number(users.rows[0]?.n ?? 0),
      memories: Object.values(memoriesByPermission).reduce((a, b) => a + b, 0),
      memoriesByPermission,
      searches: Number(searches?.s ?? 0),
    };
  }
}
