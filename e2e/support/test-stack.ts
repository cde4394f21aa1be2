import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import {
  openTestDatabase,
  openTestEventBus,
  uniqueSchema,
  type TestDatabase,
} from '@picard/service-kit/testing';
import type { EventBus, Logger } from '@picard/service-kit';
import { startStack, type Stack } from '../../src/stack.js';

export const PUBLIC_URL = 'http://localhost:8001';
export const ADMIN = {
  username: 'root-admin',
  password: 'correct horse battery',
  email: 'admin@example.test',
};

export interface TestStack {
  url: string;
  /** PICARD_PUBLIC_URL of this stack: the token issuer and audience. */
  publicUrl: string;
  stack: Stack;
  env: NodeJS.ProcessEnv;
  bus: EventBus;
  databases: { auth: TestDatabase; memory: TestDatabase; persona: TestDatabase };
  schemas: { auth: string; memory: string; persona: string };
  stop(): Promise<void>;
}

/**
 * The whole system for an e2e suite: real gRPC services, real databases (PGlite in memory, or
 * PostgreSQL in unique schemas when PICARD_TEST_DATABASE_URL is set), real bus, real HTTP.
 */
/**
 * A free loopback port below the ephemeral range, for a server bound seconds later (a child
 * process): a port the OS hands out for `listen(0)` meanwhile can then never be the same one.
 * Ports given out here are not given out again in this test process.
 */
export async function laterPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
const handedOut = new Set<number>();

/**
 * With `realPublicUrl`, PICARD_PUBLIC_URL is the address the gateway really listens on, so a stock
 * OAuth client can follow the metadata documents; otherwise it is the default http://localhost:8001.
 */
export async function startTestStack(
  extraEnv: NodeJS.ProcessEnv = {},
  opts: {
    realPublicUrl?: boolean;
    logger?: (service: string) => Logger;
    /** Data that exists already (a restored backup): these schemas of this PostgreSQL, left as they are at stop. */
    existing?: { url: string; schemas: TestStack['schemas'] };
    /** The gateway's clock for token and session expiry: tests move it instead of waiting. */
    gatewayClock?: () => number;
  } = {},
): Promise<TestStack> {
  const port = opts.realPublicUrl ? await laterPort() : 0;
  const publicUrl = opts.realPublicUrl ? `http://127.0.0.1:${port}` : PUBLIC_URL;
  const existing = opts.existing;
  const [auth, memory, persona] = existing
    ? [existingDatabase(existing.url), existingDatabase(existing.url), existingDatabase(existing.url)]
    : await Promise.all([openTestDatabase(), openTestDatabase(), openTestDatabase()]);
  const bus = await openTestEventBus('e2e');
  const schemas = existing?.schemas ?? {
    auth: uniqueSchema('auth'),
    memory: uniqueSchema('memory'),
    persona: uniqueSchema('persona'),
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PICARD_PUBLIC_URL: publicUrl,
    MEMORY_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    PICARD_ADMIN_USERNAME: ADMIN.username,
    PICARD_ADMIN_PASSWORD: ADMIN.password,
    PICARD_ADMIN_EMAIL: ADMIN.email,
    EMBEDDING_PROVIDER: 'offline',
    ...extraEnv,
  };
  const stack = await startStack({
    env,
    databases: { auth: auth.target, memory: memory.target, persona: persona.target },
    schemas,
    bus,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    gatewayPort: port,
    gatewayClock: opts.gatewayClock,
    logger: opts.logger,
  });
  return {
    url: `http://127.0.0.1:${stack.gateway.port}`,
    publicUrl,
    stack,
    env,
    bus,
    databases: { auth, memory, persona },
    schemas,
    async stop() {
      await stack.stop();
      await bus.close();
      await auth.cleanup(schemas.auth);
      await memory.cleanup(schemas.memory);
      await persona.cleanup(schemas.persona);
    },
  };
}

/** A PostgreSQL database the suite brought (a restored backup): its owner drops it, not stop(). */
const existingDatabase = (url: string): TestDatabase => ({
  target: { kind: 'postgres', url },
  cleanup: async () => undefined,
});

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** One HTTP call with a JSON body (a string is sent as is); the reply parsed as JSON when it is JSON. */
export async function request(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  request('POST', url, headers, body);

/** A form POST to one of the gateway's OAuth endpoints (/token, /revoke) as a confidential client. */
export const clientForm = (
  t: { url: string },
  client: { client_id: string; client_secret: string },
  path: '/token' | '/revoke',
  form: Record<string, string>,
) =>
  fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(client.client_id, client.client_secret),
    },
    body: new URLSearchParams(form),
  });

/**
 * True once `check` holds, polling for at most `ms`. Revocations reach a gateway as events, so
 * "refused within a second" is what the security model promises, not "refused at once".
 */
export async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A check for `within`: the token no longer opens the tools endpoint. */
export const refused = (t: { url: string }, token: string) => async () =>
  (await callTool(t, token, 'retrieve_memories', {})).status === 401;

export interface UserToken {
  access_token: string;
  refresh_token: string;
  user_id: string;
  scope: string;
  expires_in: number;
  token_type: string;
}

/** Registers a first-party client as the admin, the way an operator would. */
export async function registerClient(t: { url: string }, scopes?: string[]) {
  const res = await post(
    `${t.url}/api/admin/clients/register`,
    {
      client_name: 'e2e client',
      redirect_uris: ['http://localhost:3000/callback'],
      ...(scopes ? { scopes } : {}),
    },
    { authorization: basic(ADMIN.username, ADMIN.password) },
  );
  if (res.status !== 201) throw new Error(`client registration failed: ${res.status} ${res.text}`);
  return res.json as { client_id: string; client_secret: string; scopes: string[] };
}

export async function userToken(
  t: { url: string },
  client: { client_id: string; client_secret: string },
  username: string,
) {
  const res = await post(`${t.url}/api/user-tokens/user-token`, {
    client_id: client.client_id,
    client_secret: client.client_secret,
    username,
    email: `${username}@example.test`,
    create_if_missing: true,
  });
  if (res.status !== 200) throw new Error(`user token failed: ${res.status} ${res.text}`);
  return res.json as UserToken;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function callTool(t: { url: string }, token: string, tool: string, data: unknown) {
  return post(`${t.url}/api/tools`, { tool, data }, bearer(token));
}

/** A read-only look into a service's own database, for assertions about what is stored. */
export async function queryDb(
  t: TestStack,
  service: 'auth' | 'memory' | 'persona',
  sql: (schema: string) => string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const db = t.databases[service].target;
  const text = sql(`"${t.schemas[service]}"`);
  if (db.kind === 'pglite') return (await db.pglite.query<Record<string, unknown>>(text, params)).rows;
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}
