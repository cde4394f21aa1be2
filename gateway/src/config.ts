import { z } from 'zod';
import { env, metricsEnv, unsetIfEmpty } from '@picard/service-kit';
import { parseSize } from './http/body-limits.js';
import { parseTrustProxy } from './http/trust-proxy.js';

/** A body is forwarded as one gRPC message, which carries at most 64 MiB. */
const MAX_BODY_LIMIT = 64 * 1024 * 1024;

export const gatewayConfigSchema = z.object({
  LOG_LEVEL: env.logLevel(),
  METRICS_TOKEN: metricsEnv.METRICS_TOKEN,
  GATEWAY_HOST: env.string('0.0.0.0'),
  GATEWAY_PORT: env.port(8001),
  PICARD_PUBLIC_URL: env.string('http://localhost:8001').pipe(z.url({ message: 'must be a URL' })),
  AUTH_GRPC_ADDR: env.string('127.0.0.1:50051'),
  MEMORY_GRPC_ADDR: env.string('127.0.0.1:50052'),
  EMBEDDING_GRPC_ADDR: env.string('127.0.0.1:50053'),
  PERSONA_GRPC_ADDR: env.string('127.0.0.1:50054'),
  NATS_URL: env.optionalUrl('nats'),
  /** Signs the caller's identity on every gRPC call to the services (they share the secret). */
  INTERNAL_TOKEN_KEY: env.internalKey(),
  /** Extra host names the gateway answers to (DNS-rebinding protection), comma-separated. */
  GATEWAY_ALLOWED_HOSTS: env.optionalString(),
  /** Extra origins (host names) allowed to call /mcp from a browser, comma-separated. */
  GATEWAY_ALLOWED_ORIGINS: env.optionalString(),
  /**
   * Signs the login cookie of the authorization pages; every gateway instance needs the same one.
   * Generated per process when missing (logins then do not survive a restart).
   */
  GATEWAY_SESSION_SECRET: env
    .optionalString()
    .pipe(z.string().min(32, { message: 'must be at least 32 characters' }).optional()),
  /** Same variable as auth-service: whether https client ids (Client ID Metadata Documents) are accepted. */
  AUTH_CIMD_ENABLED: env.bool(true),
  /**
   * Which peers may tell the client's address in X-Forwarded-For (see http/trust-proxy.ts): false
   * (default), a hop count, or addresses / CIDRs. Rate limits and login throttling count per client
   * address (IPv6 per /64), so behind a proxy this must name it.
   */
  GATEWAY_TRUST_PROXY: env.string('false').transform((value, ctx) => {
    const parsed = parseTrustProxy(value);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    return parsed.value;
  }),
  // Per-user and per-source limits; counted in auth-service's database, so shared by every instance.
  /** lookup_users calls per user per minute. */
  GATEWAY_LOOKUP_USERS_PER_MINUTE: env.positiveInt(60),
  /** query_user calls (each an LLM request) per user per minute. */
  GATEWAY_QUERY_USER_PER_MINUTE: env.positiveInt(20),
  /** export_memories calls per user per hour. */
  GATEWAY_EXPORTS_PER_HOUR: env.positiveInt(10),
  /** Sign-ups on the authorization pages per source address per hour. */
  GATEWAY_SIGNUPS_PER_HOUR: env.positiveInt(10),
  /** Dynamic client registrations (POST /register) per source address per hour. */
  GATEWAY_REGISTRATIONS_PER_HOUR: env.positiveInt(20),
  /** Authorization requests naming a client id URL (a metadata document to fetch) per source address per hour. */
  GATEWAY_CLIENT_ID_URLS_PER_HOUR: env.positiveInt(60),
  /**
   * Largest JSON body, in bytes once parsed ("512kb", "2mb": 1024-based). import_memories calls on
   * /mcp and /api/tools may be as large as the import cap needs (see http/body-limits.ts).
   */
  GATEWAY_BODY_LIMIT: env.string('2mb').transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined || bytes < 1024 || bytes > MAX_BODY_LIMIT) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a size from 1kb to 64mb, such as 512kb or 2mb (b, kb, mb, gb; got "${value}")`,
      });
      return z.NEVER;
    }
    return bytes;
  }),
  /**
   * MCP over Streamable HTTP: `stateless` (default) answers every request on its own, from any
   * gateway instance. `stateful` adds sessions for 2025-11-25 clients (Mcp-Session-Id, the GET
   * event stream, resources/subscribe); see mcp/sessions/.
   */
  MCP_SESSIONS: z.preprocess(
    unsetIfEmpty,
    z.enum(['stateless', 'stateful'], { message: 'must be stateless or stateful' }).default('stateless'),
  ),
  /** A session nobody used for this long (no request, no open event stream) is closed. */
  MCP_SESSION_TTL_SECONDS: env.intWithin(1800, 1, 86_400),
  /** Messages kept per session so a client reconnecting with Last-Event-ID gets what it missed. */
  MCP_SESSION_EVENT_BUFFER: env.intWithin(100, 1, 10_000),
  /** Resource subscriptions one session may hold. */
  MCP_SESSION_MAX_SUBSCRIPTIONS: env.intWithin(100, 1, 10_000),
  /** Open sessions per user on one gateway; a new one beyond it closes that user's least recently used. */
  MCP_SESSIONS_PER_USER: env.intWithin(16, 1, 1000),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
