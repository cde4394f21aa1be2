import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger.js';

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
/** One scrape reads each outbox once for both gauges. */
async function outboxState(): Promise<Map<string, { pending: number; age: number }>> {
  const out = new Map<string, { pending: number; age: number }>();
  await Promise.all(
    [...outboxes].map(async ([service, knex]) => {
      try {
        const [row] = await knex('outbox').select(
          knex.raw('count(*)::int AS pending'),
          knex.raw('coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age'),
        );
        out.set(service, { pending: Number(row?.pending ?? 0), age: Number(row?.age ?? 0) });
      } catch {
        // A database that cannot answer leaves the series out of this scrape.
      }
    }),
  );
  return out;
}
let pendingScrape: Promise<Map<string, { pending: number; age: number }>> | undefined;
const scrapeOutboxes = () => {
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
    for (const [service, s] of await scrapeOutboxes()) this.set({ service }, s.pending);
  },
});
new Gauge({
  name: 'picard_outbox_oldest_event_age_seconds',
  help: 'Age of the oldest event waiting in the outbox (0 when empty), by service',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    for (const [service, s] of await scrapeOutboxes()) this.set({ service }, s.age);
  },
});

/** Reports a service's outbox backlog at every scrape; returns the function that stops it. */
export function watchOutbox(service: string, knex: Knex): () => void {
  outboxes.set(service, knex);
  return () => {
    if (outboxes.get(service) === knex) outboxes.delete(service);
  };
}

/** Whether a scrape may read the metrics: with a token, only bearers of it; without one, loopback only. */
export function mayScrape(
  authorization: string | undefined,
  remoteAddress: string | undefined,
  token?: string,
) {
  if (token) {
    const given = Buffer.from(authorization?.replace(/^Bearer\s+/i, '') ?? '');
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
  return remoteAddress === '127.0.0.1' || remoteAddress === '::1' || remoteAddress === '::ffff:127.0.0.1';
}

/** A service without an HTTP server of its own serves `/metrics` on METRICS_PORT. */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  token?: string;
  logger: Logger;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    if (!mayScrape(req.headers.authorization, req.socket.remoteAddress, opts.token)) {
      res.writeHead(opts.token ? 401 : 403, { 'content-type': 'text/plain' }).end('metrics: not allowed\n');
      return;
    }
    metricsRegistry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(body),
      (err: unknown) => {
        opts.logger.error({ err }, 'metrics could not be collected');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  opts.logger.info({ host: opts.host, port }, 'metrics served at /metrics');
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Starts the metrics server when METRICS_PORT is set (a standalone service; embedded mode uses the gateway's). */
export async function serveMetricsIfConfigured(
  config: { METRICS_PORT?: number; METRICS_HOST: string; METRICS_TOKEN?: string },
  logger: Logger,
): Promise<{ close(): Promise<void> } | undefined> {
  if (config.METRICS_PORT === undefined) return undefined;
  return startMetricsServer({
    host: config.METRICS_HOST,
    port: config.METRICS_PORT,
    token: config.METRICS_TOKEN,
    logger,
  });
}
