import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  connectEventBus,
  InternalTokens,
  type EventBus,
  type Logger,
  type Subscription,
} from '@picard/service-kit';
import type { GatewayConfig } from './config.js';
import { createServiceClients, type ServiceAddresses } from './clients/service-clients.js';
import { DenyList } from './auth/deny-list.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { createApp } from './app.js';
import { TOOLS } from './mcp/tools/index.js';
import { ToolRateLimits } from './mcp/tools/tool-rate-limits.js';
import { SharedRateLimits } from './clients/rate-limits.client.js';
import { hostname } from 'node:os';
import { createMcpEndpoint } from './mcp/mcp-server.js';
import { createStatefulMcpEndpoint } from './mcp/sessions/stateful-endpoint.js';
import { ResourceChangeNotifier } from './mcp/sessions/change-notifier.js';

export interface StartGatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  /** Overrides the *_GRPC_ADDR settings (the embedded launcher knows the real ports). */
  addresses?: Partial<ServiceAddresses>;
  /** The embedded launcher shares its in-process bus; otherwise NATS_URL decides. */
  bus?: EventBus;
  host?: string;
  port?: number;
  /** The clock MCP sessions and access tokens expire by (tests move it instead of waiting). */
  clock?: () => number;
}

export interface GatewayHandle {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startGateway(opts: StartGatewayOptions): Promise<GatewayHandle> {
  const { config, logger } = opts;
  const publicUrl = config.PICARD_PUBLIC_URL.replace(/\/+$/, '');
  const internalTokens = new InternalTokens({ key: config.INTERNAL_TOKEN_KEY, issuer: 'gateway' });
  const clients = createServiceClients(
    {
      auth: opts.addresses?.auth ?? config.AUTH_GRPC_ADDR,
      memory: opts.addresses?.memory ?? config.MEMORY_GRPC_ADDR,
      embedding: opts.addresses?.embedding ?? config.EMBEDDING_GRPC_ADDR,
      persona: opts.addresses?.persona ?? config.PERSONA_GRPC_ADDR,
    },
    internalTokens,
  );
  const rateLimits = new SharedRateLimits(opts.addresses?.auth ?? config.AUTH_GRPC_ADDR, internalTokens);
  const denyList = new DenyList();
  // The gateway listens at once and answers 503 (and says why on /health) until NATS and
  // auth-service are reachable: in a cluster it may well start first.
  let waitingFor: string | undefined = 'its dependencies';
  const verifier = new TokenVerifier(
    clients,
    denyList,
    publicUrl,
    [publicUrl, `${publicUrl}/mcp`],
    opts.clock,
  );

  // The public host and loopback, plus what the operator adds (comma-separated).
  const publicHost = new URL(publicUrl).hostname;
  const hostNames = (extra: string | undefined) => [
    ...new Set([
      publicHost,
      'localhost',
      '127.0.0.1',
      '[::1]',
      ...(extra ?? '')
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    ]),
  ];
  const allowedHosts = hostNames(config.GATEWAY_ALLOWED_HOSTS);
  const allowedOrigins = hostNames(config.GATEWAY_ALLOWED_ORIGINS);
  let sessionSecret = config.GATEWAY_SESSION_SECRET;
  if (!sessionSecret) {
    sessionSecret = randomBytes(32).toString('base64url');
    logger.warn(
      'GATEWAY_SESSION_SECRET is not set: login sessions of the authorization pages last until restart',
    );
  }
  const toolRateLimits = new ToolRateLimits(TOOLS, config, rateLimits);
  const toolDeps = { clients, rateLimits: toolRateLimits };
  const stateful =
    config.MCP_SESSIONS === 'stateful'
      ? createStatefulMcpEndpoint(
          toolDeps,
          {
            ttlMs: config.MCP_SESSION_TTL_SECONDS * 1000,
            eventBuffer: config.MCP_SESSION_EVENT_BUFFER,
            maxSubscriptions: config.MCP_SESSION_MAX_SUBSCRIPTIONS,
            perUser: config.MCP_SESSIONS_PER_USER,
            now: opts.clock,
          },
          logger,
        )
      : undefined;
  const mcp = stateful ?? createMcpEndpoint(toolDeps, logger);
  const app = createApp({
    publicUrl,
    allowedHosts,
    allowedOrigins,
    sessionSecret,
    cimdEnabled: config.AUTH_CIMD_ENABLED,
    bodyLimitBytes: config.GATEWAY_BODY_LIMIT,
    clients,
    trustProxy: config.GATEWAY_TRUST_PROXY,
    rateLimits,
    limits: {
      signupsPerHour: config.GATEWAY_SIGNUPS_PER_HOUR,
      registrationsPerHour: config.GATEWAY_REGISTRATIONS_PER_HOUR,
      clientIdUrlsPerHour: config.GATEWAY_CLIENT_ID_URLS_PER_HOUR,
    },
    toolRateLimits,
    mcpEndpoint: mcp,
    verifier,
    logger,
    starting: () => waitingFor,
    metricsToken: config.METRICS_TOKEN,
  });

  const host = opts.host ?? config.GATEWAY_HOST;
  const server: Server = await new Promise((resolve, reject) => {
    // Not app.listen: express 5 calls its callback on a listen error too, which would resolve
    // with a server that never listened.
    const s = createServer(app);
    s.on('clientError', answerUnreadableRequest);
    s.listen(opts.port ?? config.GATEWAY_PORT, host, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`GATEWAY_PORT ${opts.port ?? config.GATEWAY_PORT} is already in use on ${host}`)
          : err,
      ),
    );
  });
  const port = (server.address() as { port: number }).port;
  logger.info({ host, port, publicUrl }, 'gateway listening');

  let ownBus: EventBus | undefined;
  let subscription: Subscription | undefined;
  let changes: Subscription | undefined;
  try {
    waitingFor = 'NATS (NATS_URL)';
    ownBus = opts.bus ? undefined : await connectEventBus(config.NATS_URL, 'gateway', logger);
    waitingFor = 'auth-service (AUTH_GRPC_ADDR)';
    // Each gateway instance has consumers of its own (every instance must see every revocation and
    // change), named with a random part: several gateways may share a process (tests) or a host name
    // and pid (containers). Ephemeral: the deny-list is rebuilt from auth-service at start.
    const instance = `gateway-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`.replace(
      /[^A-Za-z0-9_-]/g,
      '_',
    );
    subscription = await denyList.sync(clients, opts.bus ?? ownBus!, instance, logger);
    if (stateful) {
      // The subscriptions this instance serves live only here.
      const notifier = new ResourceChangeNotifier(stateful.sessions, clients, verifier, logger);
      changes = await notifier.start(opts.bus ?? ownBus!, `${instance}-mcp`);
    }
  } catch (err) {
    await stateful?.close();
    await subscription?.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    clients.close();
    rateLimits.close();
    await ownBus?.close();
    throw new Error(`gateway could not start: ${(err as Error).message}`, { cause: err });
  }
  waitingFor = undefined;
  logger.info({ mcpSessions: config.MCP_SESSIONS }, 'gateway ready');

  return {
    port,
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`,
    async stop() {
      // Sessions first: their open event streams would hold the HTTP server's close.
      await stateful?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 3000).unref();
      });
      await changes?.stop();
      await subscription?.stop();
      await ownBus?.close();
      clients.close();
      rateLimits.close();
    },
  };
}

/**
 * Requests Node refuses before express sees them (headers past 16 KiB, a malformed request line):
 * its default answer has no body, so the client is not told why. Same JSON shape as every refusal.
 */
function answerUnreadableRequest(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify({
    error: 'invalid_argument',
    message: tooLarge
      ? 'the request line and headers are larger than 16 KiB'
      : 'the request is not valid HTTP',
    field: tooLarge ? 'headers' : 'request',
  });
  socket.end(
    `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}
