import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/express';
import type { Logger } from '@picard/service-kit';
import type { ServiceClients } from './clients/service-clients.js';
import type { TokenVerifier } from './auth/token-verifier.js';
import { requireBearer } from './auth/bearer.js';
import { mcpScopeGate } from './auth/mcp-scope-gate.js';
import { BrowserSessions } from './oauth/browser-session.js';
import { authorizeRouter } from './oauth/authorize.routes.js';
import { registrationRouter } from './oauth/registration.routes.js';
import type { McpHandlerRequestOptions } from '@modelcontextprotocol/server';
import type { ToolRateLimits } from './mcp/tools/tool-rate-limits.js';
import { toolsRouter } from './http/tools.routes.js';
import { adminRouter } from './http/admin.routes.js';
import { adminManageRouter } from './http/admin-manage.routes.js';
import { adminSummaryRouter } from './http/admin-summary.routes.js';
import { usersRouter } from './http/users.routes.js';
import { oauthRouter } from './http/oauth.routes.js';
import { buildOpenApiDocument } from './http/openapi.js';
import { sendError } from './http/http-errors.js';
import { securityHeaders } from './http/security-headers.js';
import { SourceLimits, type SourceLimitSettings } from './http/source-limits.js';
import type { SharedRateLimits } from './clients/rate-limits.client.js';
import { bodyLimits, jsonBody, tooLargeMessage, toolCallBody } from './http/body-limits.js';
import { mcpBatchIds } from './http/mcp-batch-ids.js';
import { DomainError, localHealth, mayScrape, metricsRegistry } from '@picard/service-kit';

export interface AppOptions {
  publicUrl: string;
  allowedHosts: string[];
  allowedOrigins: string[];
  sessionSecret: string;
  cimdEnabled: boolean;
  /** GATEWAY_BODY_LIMIT in bytes; import_memories calls get more (see body-limits.ts). */
  bodyLimitBytes: number;
  clients: ServiceClients;
  /** GATEWAY_TRUST_PROXY: express's "trust proxy" (false, a hop count or addresses). */
  trustProxy: false | number | string[];
  rateLimits: SharedRateLimits;
  limits: SourceLimitSettings;
  /** Shared by /mcp and /api/tools, so a limit counts calls through both. */
  toolRateLimits: ToolRateLimits;
  /** What serves /mcp once the token and scope checks passed: stateless, or with sessions (MCP_SESSIONS). */
  mcpEndpoint: { fetch: (request: Request, options?: McpHandlerRequestOptions) => Promise<Response> };
  verifier: TokenVerifier;
  logger: Logger;
  /** METRICS_TOKEN: bearer token a Prometheus scrape of /metrics must carry (without it: loopback only). */
  metricsToken?: string;
  /** What the gateway still waits for before it can check tokens (undefined once ready). */
  starting?: () => string | undefined;
}

/** The gateway's HTTP surface. Routes are thin: validation, identity, one gRPC call. */
export function createApp(opts: AppOptions): Express {
  const { clients, verifier, publicUrl, logger } = opts;
  const app = express();
  app.locals.logger = logger;
  app.disable('x-powered-by');
  // req.ip is the client every per-source limit counts: only configured proxies may name it.
  app.set('trust proxy', opts.trustProxy);
  if (opts.trustProxy === false) {
    // A proxy nobody told us about makes every client one address: one warning says how to fix it.
    let warned = false;
    app.use((req, _res, next) => {
      if (!warned && req.headers['x-forwarded-for']) {
        warned = true;
        logger.warn(
          { peer: req.socket.remoteAddress },
          'requests carry X-Forwarded-For but GATEWAY_TRUST_PROXY is false: rate limits count the peer; behind a proxy set GATEWAY_TRUST_PROXY to its hop count or address',
        );
      }
      next();
    });
  }
  const sourceLimits = new SourceLimits(opts.rateLimits, opts.limits);
  // Before the Host check: load balancers probe with their own host names.
  app.get('/health', async (_req, res) => {
    const services = await clients.healthStates();
    const waitingFor = opts.starting?.();
    if (waitingFor) {
      res.status(503).json({
        status: 'starting',
        waiting_for: waitingFor,
        services: { gateway: 'NOT_SERVING', ...services },
      });
      return;
    }
    // This process's own databases, outboxes and bus (in embedded mode: every service's). A bus
    // outage is reported, not failed on: the gateway keeps serving (events wait in the outboxes),
    // and a load balancer must not take every gateway out of rotation for it.
    const local = await localHealth();
    const ok =
      Object.values(services).every((s) => s === 'SERVING') &&
      Object.values(local.services).every((s) => s.database === 'ok');
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'degraded',
      services: { gateway: 'SERVING', ...services },
      databases: local.services,
      bus: local.bus,
    });
  });
  // Also before the Host check (scrapers use their own host names); in embedded mode every
  // service shares this process, so this shows them all.
  app.get('/metrics', async (req, res) => {
    if (!mayScrape(req.headers.authorization, req.socket.remoteAddress, opts.metricsToken)) {
      sendError(
        res,
        new DomainError(
          opts.metricsToken ? 'unauthenticated' : 'permission_denied',
          opts.metricsToken
            ? 'metrics need the METRICS_TOKEN bearer token'
            : 'metrics are served to loopback only unless METRICS_TOKEN is set',
        ),
      );
      return;
    }
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });
  app.use((_req, res, next) => {
    const waitingFor = opts.starting?.();
    if (!waitingFor) return next();
    res.setHeader('Retry-After', '2');
    sendError(res, new DomainError('unavailable', `the gateway is starting: waiting for ${waitingFor}`));
  });
  app.use(hostHeaderValidation(opts.allowedHosts));
  app.use(securityHeaders({ https: publicUrl.startsWith('https:') }));
  const limits = bodyLimits(opts.bodyLimitBytes);
  app.use(jsonBody(limits));

  const openapi = buildOpenApiDocument(publicUrl);
  app.get('/openapi.json', (_req, res) => res.json(openapi));
  app.use('/docs', apiDocs(openapi));

  app.use(oauthRouter(clients, publicUrl, opts.cimdEnabled));
  app.use(registrationRouter(clients, sourceLimits));
  app.use(
    authorizeRouter(
      clients,
      new BrowserSessions(opts.sessionSecret, publicUrl.startsWith('https:')),
      publicUrl,
      sourceLimits,
    ),
  );
  app.use(adminRouter(clients, verifier));
  app.use(adminManageRouter(clients, verifier));
  app.use(adminSummaryRouter(clients, verifier));

  const resourceMetadataUrl = `${publicUrl}/.well-known/oauth-protected-resource/mcp`;
  const toolDeps = { clients, rateLimits: opts.toolRateLimits };
  const mcp = toNodeHandler(opts.mcpEndpoint, {
    onerror: (err) => logger.error({ err }, 'MCP adapter failed'),
  });
  app.all(
    '/mcp',
    originValidation(opts.allowedOrigins),
    requireBearer(verifier, resourceMetadataUrl),
    ...toolCallBody(limits, 'mcp'),
    mcpBatchIds(),
    mcpScopeGate(resourceMetadataUrl),
    (req, res) => mcp(req, res, req.body),
  );

  const apiMetadataUrl = `${publicUrl}/.well-known/oauth-protected-resource`;
  app.use('/api', requireBearer(verifier, apiMetadataUrl));
  app.use('/api/tools', ...toolCallBody(limits, 'rest'));
  app.use(toolsRouter(toolDeps));
  app.use(usersRouter(clients, apiMetadataUrl));

  app.use((_req, res) => sendError(res, new DomainError('not_found', 'no such endpoint')));
  // Malformed JSON and oversized bodies arrive here from express.json() and toolCallBody().
  app.use(
    (
      err: { status?: number; type?: string; message?: string; limit?: number },
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      if (err instanceof DomainError) {
        sendError(res, err);
      } else if (err.type === 'entity.too.large') {
        res.status(413).json({
          error: 'payload_too_large',
          message: tooLargeMessage(limits, err.limit),
          field: 'body',
        });
      } else if (err.type === 'entity.parse.failed') {
        res
          .status(400)
          .json({ error: 'invalid_argument', message: 'the body is not valid JSON', field: 'body' });
      } else if (err.status !== undefined && err.status >= 400 && err.status < 500) {
        // body-parser's other refusals (a charset or Content-Encoding it cannot decode, a body that
        // does not inflate) and the router's (a path parameter that does not URL-decode).
        const field = err.message?.startsWith('Failed to decode param') ? 'path' : 'body';
        res.status(err.status).json({
          error: err.status === 415 ? 'unsupported_media_type' : 'invalid_argument',
          message: `the ${field} cannot be read: ${err.message}`,
          field,
        });
      } else {
        const errorId = randomUUID();
        logger.error({ err, errorId }, 'unhandled HTTP error');
        res
          .status(err.status ?? 500)
          .json({ error: 'internal', message: `internal error (error id ${errorId})` });
      }
    },
  );
  return app;
}

/**
 * Swagger UI for `openapi`, loaded at its first request: the package costs ~70 ms of every start
 * (the embedded launcher's included) and most runs never open the page.
 */
function apiDocs(openapi: object): express.RequestHandler {
  let docs: Promise<express.Router> | undefined;
  return (req, res, next) => {
    docs ??= import('swagger-ui-express').then(({ default: swaggerUi }) =>
      express.Router().use(swaggerUi.serve, swaggerUi.setup(openapi)),
    );
    docs.then((router) => router(req, res, next), next);
  };
}
