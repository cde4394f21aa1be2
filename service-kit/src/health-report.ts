import { busStates, outboxStates } from './metrics.js';
import type { BusHealth } from './events/event-bus.js';

/** This process's own view: each service's database and outbox, and its event bus. */
export interface LocalHealth {
  status: 'ok' | 'degraded';
  services: Record<
    string,
    { database: 'ok' | 'unreachable'; outbox?: { pending: number; oldest_age_seconds: number } }
  >;
  bus: Record<string, BusHealth>;
}

/**
 * Degraded when a database does not answer or the bus is disconnected. An outbox backlog is
 * reported, not judged: it grows while the bus is away and drains when it is back.
 */
export async function localHealth(): Promise<LocalHealth> {
  const [outboxes, buses] = await Promise.all([outboxStates(), busStates()]);
  const services: LocalHealth['services'] = {};
  for (const [service, s] of outboxes) {
    services[service] =
      s === 'unreachable'
        ? { database: 'unreachable' }
        : { database: 'ok', outbox: { pending: s.pending, oldest_age_seconds: Math.round(s.age * 10) / 10 } };
  }
  const bus = Object.fromEntries(buses);
  const ok =
    Object.values(services).every((s) => s.database === 'ok') && Object.values(bus).every((b) => b.connected);
  return { status: ok ? 'ok' : 'degraded', services, bus };
}
