import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  openDatabase,
  OutboxRelay,
  enqueueEvent,
  enqueueEvents,
  createOutboxTable,
  newId,
  type Knex,
  type BusMessage,
} from '../../src/index.js';
import {
  openTestDatabase,
  openTestEventBus,
  testLogger,
  uniqueSchema,
  type TestDatabase,
} from '../../src/testing.js';
import type { EventBus } from '../../src/events/event-bus.js';

describe('outbox relay over the configured bus', () => {
  let db: TestDatabase;
  let knex: Knex;
  let bus: EventBus;
  const schema = uniqueSchema('kit');

  beforeAll(async () => {
    db = await openTestDatabase();
    knex = await openDatabase({
      target: db.target,
      schema,
      logger: testLogger(),
      migrations: [{ name: '001_outbox', up: createOutboxTable }],
    });
    bus = await openTestEventBus();
  });

  afterAll(async () => {
    await bus.close();
    await knex.destroy();
    await db.cleanup(schema);
  });

  it('delivers committed events and drops rolled-back ones', async () => {
    const userId = newId();
    const received: BusMessage[] = [];
    const sub = await bus.subscribe({
      durable: `kit-${schema}`,
      subjects: ['auth.user.*'],
      handler: async (m) => {
        if ((m.payload as { user_id: string }).user_id === userId) received.push(m);
      },
    });
    const occurred_at = new Date().toISOString();
    await knex.transaction((trx) =>
      enqueueEvent(trx, 'auth.user.created', { user_id: userId, username: 'a', occurred_at }),
    );
    await knex
      .transaction(async (trx) => {
        await enqueueEvent(trx, 'auth.user.deactivated', { user_id: userId, occurred_at });
        throw new Error('roll back');
      })
      .catch(() => undefined);

    const relay = new OutboxRelay(knex, bus, testLogger(), 50);
    expect(await relay.drain()).toBe(1);
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await relay.stop();
    await sub.stop();
    expect(received.map((m) => m.subject)).toEqual(['auth.user.created']);
    const left = await knex('outbox').count<{ n: string }[]>({ n: '*' });
    expect(Number(left[0]!.n)).toBe(0);
  });

  it('keeps events while the bus refuses them and delivers them once it is back', async () => {
    const userId = newId();
    const occurred_at = new Date().toISOString();
    await knex.transaction((trx) =>
      enqueueEvent(trx, 'auth.user.created', { user_id: userId, username: 'b', occurred_at }),
    );

    const down = await openTestEventBus('down');
    await down.close();
    const failing = new OutboxRelay(knex, down, testLogger(), 50);
    expect(await failing.drain()).toBe(0);
    const kept = await knex('outbox').select('attempts');
    expect(kept).toEqual([{ attempts: 1 }]);

    const received: BusMessage[] = [];
    const sub = await bus.subscribe({
      durable: `kit-back-${schema}`,
      subjects: ['auth.user.created'],
      handler: async (m) => {
        if ((m.payload as { user_id: string }).user_id === userId) received.push(m);
      },
    });
    const relay = new OutboxRelay(knex, bus, testLogger(), 50);
    expect(await relay.drain()).toBe(1);
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await sub.stop();
    expect(received).toHaveLength(1);
    expect(Number((await knex('outbox').count<{ n: string }[]>({ n: '*' }))[0]!.n)).toBe(0);
  });

  it('records many events of a batch write at once, each delivered once with its own id and payload', async () => {
    const occurred_at = new Date().toISOString();
    const users = Array.from({ length: 1203 }, () => newId()); // more than one insert statement's worth
    await knex.transaction((trx) =>
      enqueueEvents(
        trx,
        'auth.user.created',
        users.map((user_id, i) => ({ user_id, username: `u${i}`, occurred_at })),
      ),
    );
    const rows = await knex('outbox').select('id');
    expect(new Set(rows.map((r: { id: string }) => r.id)).size).toBe(users.length);
    const received = new Map<string, string>();
    const wanted = new Set(users);
    const sub = await bus.subscribe({
      durable: `kit-batch-${schema}`,
      subjects: ['auth.user.created'],
      handler: async (m) => {
        const p = m.payload as { user_id: string; username: string };
        if (wanted.has(p.user_id)) received.set(p.user_id, p.username);
      },
    });
    const relay = new OutboxRelay(knex, bus, testLogger(), 50, 500);
    let sent = 0;
    for (let n = await relay.drain(); n > 0; n = await relay.drain()) sent += n;
    expect(sent).toBe(users.length);
    for (let i = 0; i < 250 && received.size < users.length; i++) await new Promise((r) => setTimeout(r, 20));
    await sub.stop();
    expect(received.size).toBe(users.length);
    expect(users.every((u, i) => received.get(u) === `u${i}`)).toBe(true);
  });
});
