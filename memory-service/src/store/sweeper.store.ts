import { enqueueEvents, type Knex } from '@picard/service-kit';
import type { PermissionName } from '../domain/memory.model.js';
import { explainPlan } from './explain.js';

export interface SweptMemory {
  id: string;
  userId: string;
  permission: PermissionName;
}

const DELETE_EXPIRED = `DELETE FROM memories
  WHERE id IN (
    SELECT id FROM memories
     WHERE expiration_date <= now() - make_interval(secs => ?)
     ORDER BY expiration_date
     LIMIT ?
     FOR UPDATE SKIP LOCKED)
  RETURNING id, user_id, permission`;

/** SQL for the expiry sweeper: deleting a row removes its vector (same row); shares cascade. */
export class SweeperStore {
  constructor(readonly knex: Knex) {}

  /**
   * Deletes up to `limit` memories that expired at least `graceSeconds` ago (by the database clock,
   * so instances with skewed clocks agree) and enqueues one `memory.deleted` per row, all in one
   * transaction. SKIP LOCKED lets two instances sweep side by side, and passes over rows a user
   * is editing right now; they go in a later batch.
   */
  async deleteExpiredBatch(graceSeconds: number, limit: number, occurredAt: Date): Promise<SweptMemory[]> {
    return this.knex.transaction(async (trx) => {
      const res = await trx.raw<{ rows: { id: string; user_id: string; permission: PermissionName }[] }>(
        DELETE_EXPIRED,
        [graceSeconds, Math.trunc(limit)],
      );
      const swept = res.rows.map((r) => ({ id: r.id, userId: r.user_id, permission: r.permission }));
      const at = occurredAt.toISOString();
      await enqueueEvents(
        trx,
        'memory.deleted',
        swept.map((m) => ({
          memory_id: m.id,
          user_id: m.userId,
          permission: m.permission,
          occurred_at: at,
          reason: 'expired' as const,
        })),
      );
      return swept;
    });
  }

  /** The plan of one sweep batch (EXPLAIN only: nothing is deleted). */
  explainExpiredBatch(graceSeconds: number, limit: number): Promise<string> {
    return explainPlan(this.knex, { sql: DELETE_EXPIRED, bindings: [graceSeconds, Math.trunc(limit)] });
  }

  /** Forgets imports' batches older than `keepDays` days: after that a retry imports the file anew. */
  async deleteImportBatchesBefore(keepDays: number): Promise<number> {
    return this.knex('import_batches')
      .where('created_at', '<', this.knex.raw('now() - make_interval(days => ?)', [Math.trunc(keepDays)]))
      .del();
  }

  /** Drops per-day search counts older than `keepDays` days (by the database's date); returns how many. */
  async deleteSearchDaysBefore(keepDays: number): Promise<number> {
    return this.knex('user_search_days')
      .where('day', '<', this.knex.raw('current_date - ?::int', [Math.trunc(keepDays)]))
      .del();
  }
}
