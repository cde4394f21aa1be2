import type { Knex } from 'knex';
import type { EventPayload, EventSubject } from '@picard/proto';
import { newId } from '../ids.js';
import type { Logger } from '../logger.js';
import { PeriodicJob } from '../periodic-job.js';
import type { EventBus } from './event-bus.js';

export const OUTBOX_TABLE = 'outbox';

/** Migration step shared by every service that publishes events. */
export async function createOutboxTable(knex: Knex): Promise<void> {
  await knex.schema.createTable(OUTBOX_TABLE, (t) => {
    t.uuid('id').primary();
    t.string('subject', 200).notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('attempts').notNullable().defaultTo(0);
    t.index(['created_at']);
  });
}

/** Records an event in the caller's transaction: it reaches the bus only if the write commits. */
export async function enqueueEvent<S extends EventSubject>(
  trx: Knex.Transaction,
  subject: S,
  payload: EventPayload<S>,
): Promise<void> {
  await enqueueEvents(trx, subject, [payload]);
}

/** Rows per INSERT: 3 bind parameters each, well under PostgreSQL's 65,535. */
const EVENT_CHUNK = 1000;

/**
 * Records many events of one subject in the caller's transaction, in one statement per thousand
 * (a batch write of a hundred memories was a hundred statements, each a round trip).
 */
export async function enqueueEvents<S extends EventSubject>(
  trx: Knex.Transaction,
  subject: S,
  payloads: readonly EventPayload<S>[],
): Promise<void> {
  for (let i = 0; i < payloads.length; i += EVENT_CHUNK) {
    await trx(OUTBOX_TABLE).insert(
      payloads
        .slice(i, i + EVENT_CHUNK)
        .map((payload) => ({ id: newId(), subject, payload: JSON.stringify(payload) })),
    );
  }
}

/**
 * Drains the outbox to the bus. A row is deleted only after the bus accepted it, so a bus
 * outage delays events and never loses them; the row id doubles as the message id, so a
 * crash between publish and delete yields a duplicate that consumers drop.
 */
export class OutboxRelay {
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly knex: Knex,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    intervalMs = 1000,
    private readonly batchSize = 100,
  ) {
    this.job = new PeriodicJob({
      name: 'outbox drain',
      logger,
      run: () => this.drain(),
      everyMs: intervalMs,
      firstAfterMs: 0,
      // A full batch means more is waiting; a failure waits longer.
      nextAfterMs: ({ result, error }) => (error ? intervalMs * 2 : result === batchSize ? 0 : intervalMs),
    });
  }

  start(): void {
    this.job.start();
  }

  /** Asks for a drain soon, e.g. right after a write committed. */
  nudge(): void {
    this.job.runSoon();
  }

  /** Publishes one batch; returns how many rows were sent. */
  async drain(): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const rows: { id: string; subject: string; payload: unknown }[] = await trx(OUTBOX_TABLE)
        .select('id', 'subject', 'payload')
        .orderBy('created_at')
        .limit(this.batchSize)
        .forUpdate()
        .skipLocked();
      const sent: string[] = [];
      for (const row of rows) {
        try {
          const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
          await this.bus.publish({ id: row.id, subject: row.subject, payload });
          sent.push(row.id);
        } catch (err) {
          // Keep the order: stop at the first failure and leave the rest for the next drain.
          this.logger.warn(
            { err, subject: row.subject, id: row.id },
            'event bus refused an outbox event; will retry',
          );
          await trx(OUTBOX_TABLE).where({ id: row.id }).increment('attempts', 1);
          break;
        }
      }
      if (sent.length) await trx(OUTBOX_TABLE).whereIn('id', sent).delete();
      return sent.length;
    });
  }

  async stop(): Promise<void> {
    await this.job.stop();
    // Last chance to hand over what is pending; what fails stays in the table for the next start.
    await this.drain().catch(() => undefined);
  }
}
