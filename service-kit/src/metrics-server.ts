import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { localHealth } from './health-report.js';
import type { Logger } from './logger.js';
import { metricsRegistry } from './metrics.js';

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

/**
 * A service without an HTTP server of its own serves `/metrics` and `/health` (database, outbox
 * backlog, bus) on METRICS_PORT, under the same access rule.
 */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  token?: string;
  logger: Logger;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/health')) {
      res.writeHead(404).end();
      return;
    }
    if (!mayScrape(req.headers.authorization, req.socket.remoteAddress, opts.token)) {
      res.writeHead(opts.token ? 401 : 403, { 'content-type': 'text/plain' }).end(`${path}: not allowed\n`);
      return;
    }
    if (path === '/health') {
      localHealth().then(
        (h) =>
          res
            .writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
            .end(JSON.stringify(h)),
        (err: unknown) => {
          opts.logger.error({ err }, 'health could not be checked');
          res.writeHead(500).end();
        },
      );
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
