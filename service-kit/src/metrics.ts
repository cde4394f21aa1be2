import type { Knex } from 'knex';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BusHealth, EventBus } from './events/event-bus.js';

/**
 * One Prometheus registry per process (prom-client). In the cluster each service serves it on
 * METRICS_PORT; in embedded mode every service shares the process, so the gateway's `/metrics`
 * shows them all (a `service` label tells them apart).
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'picard_' });

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const grpcServerSeconds = new Histogram({
  name: 'picard_grpc_server_duration_seconds',
  help: 'gRPC calls served, by service, method and status code',
  labelNames: ['service', 'method', 'code'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const toolSeconds = new Histogram({
  name: 'picard_tool_duration_seconds',
  help: 'Tool calls through the gateway, by tool, interface (rest or mcp) and outcome (ok or an error code)',
  labelNames: ['tool', 'transport', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

/** How well concurrent requests merge: mostly 1 under load means the model runs one text per call. */
export const embeddingBatchTexts = new Histogram({
  name: 'picard_embedding_batch_texts',
  help: 'Texts per call to the embedding provider (concurrent requests merged by the micro-batcher), by provider',
  labelNames: ['provider'] as const,
  buckets: [1, 2, 3, 4, 6, 8, 16, 32, 64],
  registers: [metricsRegistry],
});

/** Provider calls and the texts they carried so far in this process (one provider, or all). */
export async function embeddingBatchTotals(provider?: string): Promise<{ calls: number; texts: number }> {
  const { values } = await embeddingBatchTexts.get();
  const sum = (name: string) =>
    values
      .filter((v) => v.metricName === name && (provider === undefined || v.labels.provider === provider))
      .reduce((total, v) => total + v.value, 0);
  return { calls: sum('picard_embedding_batch_texts_count'), texts: sum('picard_embedding_batch_texts_sum') };
}

const queues = new Map<string, () => number>();
new Gauge({
  name: 'picard_embedding_queue_depth',
  help: 'Texts waiting for the embedding model, by provider',
  labelNames: ['provider'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const [provider, depth] of queues) this.set({ provider }, depth());
  },
});

/** Reports a queue's depth at every scrape; returns the function that stops reporting it. */
export function watchQueue(provider: string, depth: () => number): () => void {
  queues.set(provider, depth);
  return () => {
    if (queues.get(provider) === depth) queues.delete(provider);
  };
}

const outboxes = new Map<string, Knex>();
/** A service's outbox, or `unreachable` when its database did not answer. */
export type OutboxState = { pending: number; age: number } | 'unreachable';
const OUTBOX_READ_TIMEOUT_MS = 2_000;

async function outboxState(): Promise<Map<string, OutboxState>> {
  const out = new Map<string, OutboxState>();
  await Promise.all(
    [...outboxes].map(async ([service, knex]) => {
      try {
        const [row] = await knex('outbox')
          .select(
            knex.raw('count(*)::int AS pending'),
            knex.raw('coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age'),
          )
          .timeout(OUTBOX_READ_TIMEOUT_MS);
        out.set(service, { pending: Number(row?.pending ?? 0), age: Number(row?.age ?? 0) });
      } catch {
        out.set(service, 'unreachable');
      }
    }),
  );
  return out;
}
let pendingScrape: Promise<Map<string, OutboxState>> | undefined;
/** Each watched outbox, read once however many gauges and health checks ask at the same time. */
export const outboxStates = () => {
  pendingScrape ??= outboxState().finally(() => setImmediate(() => (pendingScrape = undefined)));
  return pendingScrape;
};
new Gauge({
  name: 'picard_outbox_pending_events',
  help: 'Events written but not yet handed to the bus, by service',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    for (const [service, s] of await outboxStates())
      if (s !== 'unreachable') this.set({ service }, s.pending);
  },
});
new Gauge({
  name: 'picard_outbox_oldest_event_age_seconds',
  help: 'Age of the oldest event waiting in the outbox (0 when empty), by service',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    for (const [service, s] of await outboxStates()) if (s !== 'unreachable') this.set({ service }, s.age);
  },
});
new Gauge({
  name: 'picard_database_up',
  help: "1 when the service's database answered the last scrape, 0 when it did not, by service",
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    for (const [service, s] of await outboxStates()) this.set({ service }, s === 'unreachable' ? 0 : 1);
  },
});

const buses = new Map<string, EventBus>();
/** Reports a process's bus (connection, consumer backlog) at every scrape and health check. */
export function watchBus(name: string, bus: EventBus): () => void {
  buses.set(name, bus);
  return () => {
    if (buses.get(name) === bus) buses.delete(name);
  };
}
let pendingBusRead: Promise<Map<string, BusHealth>> | undefined;
/** Each watched bus's health, asked once however many gauges and health checks ask at the same time. */
export const busStates = () => {
  pendingBusRead ??= Promise.all([...buses].map(async ([name, bus]) => [name, await bus.health()] as const))
    .then((entries) => new Map(entries))
    .finally(() => setImmediate(() => (pendingBusRead = undefined)));
  return pendingBusRead;
};
new Gauge({
  name: 'picard_bus_connected',
  help: '1 while the event bus is connected, 0 while it reconnects, by bus (the service that opened it)',
  labelNames: ['bus'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    for (const [bus, h] of await busStates()) this.set({ bus }, h.connected ? 1 : 0);
  },
});
new Gauge({
  name: 'picard_bus_consumer_pending_messages',
  help: 'Events a consumer has not handled yet (undelivered or unacknowledged), by bus and consumer',
  labelNames: ['bus', 'consumer'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    for (const [bus, h] of await busStates())
      for (const [consumer, pending] of Object.entries(h.consumers)) this.set({ bus, consumer }, pending);
  },
});

/** Reports a service's outbox backlog at every scrape; returns the function that stops it. */
export function watchOutbox(service: string, knex: Knex): () => void {
  outboxes.set(service, knex);
  return () => {
    if (outboxes.get(service) === knex) outboxes.delete(service);
  };
}
