import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import request from 'supertest';
import knexFactory from 'knex';
import { PGlite } from '@electric-sql/pglite';
import { ADMIN, startTestStack, type TestStack } from '../../../../e2e/support/test-stack.js';
import { Browser, hiddenFields } from '../../../../e2e/support/browser.js';
import { startBff, type RunningBff } from '../../src/index.js';
import type { DatabaseTarget } from '../../src/db.js';

/**
 * The BFF's database for a suite, the way service-kit's openTestDatabase does it (read, not
 * imported): PostgreSQL in a unique schema when PICARD_TEST_DATABASE_URL is set, dropped after;
 * otherwise an in-memory PGlite.
 */
export async function openBffTestDatabase(): Promise<{
  target: DatabaseTarget;
  schema: string;
  cleanup(): Promise<void>;
}> {
  const schema = `client_app_t${randomBytes(4).toString('hex')}`;
  const url = process.env.PICARD_TEST_DATABASE_URL;
  if (url) {
    return {
      target: { kind: 'postgres', url },
      schema,
      async cleanup() {
        const k = knexFactory({ client: 'pg', connection: url });
        await k.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
        await k.destroy();
      },
    };
  }
  const pglite = await PGlite.create('memory://');
  return {
    target: { kind: 'pglite', pglite },
    schema,
    async cleanup() {
      if (!pglite.closed) await pglite.close();
    },
  };
}

export interface Harness {
  t: TestStack;
  bff: RunningBff;
  /** Another instance of the same web app: same settings, keys and database (stopped by stop()). */
  startAnother(): Promise<RunningBff>;
  stop(): Promise<void>;
}

/** A real Picard stack in-process and a BFF registered with it, on its own database. */
export async function startHarness(
  opts: {
    extraEnv?: NodeJS.ProcessEnv;
    realPublicUrl?: boolean;
    config?: Record<string, string | number>;
    register?: boolean;
    /** The address the BFF reaches Picard at, given the gateway's (a test's relay, say). */
    picardVia?: (gatewayUrl: string) => Promise<string>;
  } = {},
): Promise<Harness> {
  const t = await startTestStack(opts.extraEnv ?? {}, { realPublicUrl: opts.realPublicUrl ?? true });
  const picardUrl = opts.picardVia ? await opts.picardVia(t.url) : t.url;
  const db = await openBffTestDatabase();
  let bff: RunningBff;
  const others: RunningBff[] = [];
  const options: Parameters<typeof startBff>[0] = {
    env: {},
    database: db.target,
    config: {
      CLIENT_PORT: 0,
      CLIENT_HOST: '127.0.0.1',
      CLIENT_PUBLIC_URL: 'http://localhost:8000',
      PICARD_URL: picardUrl,
      ...(t.publicUrl !== picardUrl ? { PICARD_PUBLIC_URL: t.publicUrl } : {}),
      CLIENT_DATABASE_SCHEMA: db.schema,
      CLIENT_TOKEN_KEY: randomBytes(32).toString('base64'),
      CLIENT_SESSION_SECRET: randomBytes(32).toString('hex'),
      CLIENT_WEB_DIR: '/nonexistent/web',
      CLIENT_SIGNUPS_PER_IP_PER_HOUR: 1000,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...opts.config,
    },
    autoRegister:
      opts.register === false ? undefined : { username: ADMIN.username, password: ADMIN.password },
  };
  try {
    bff = await startBff(options);
  } catch (err) {
    await db.cleanup();
    await t.stop();
    throw err;
  }
  return {
    t,
    bff,
    async startAnother() {
      const other = await startBff(options);
      others.push(other);
      return other;
    },
    async stop() {
      for (const other of others) await other.stop();
      await bff.stop();
      await db.cleanup();
      await t.stop();
    },
  };
}

/** Every Set-Cookie of a response, as name → value. */
export function cookiesOf(res: request.Response): Map<string, string> {
  const out = new Map<string, string>();
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  for (const line of raw ?? []) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    out.set(pair!.slice(0, eq), decodeURIComponent(pair!.slice(eq + 1)));
  }
  return out;
}

/** A browser of the web app: cookie jar (supertest agent) plus the XSRF header Angular would send. */
export class WebUser {
  readonly agent: ReturnType<typeof request.agent>;
  csrf = '';
  /** Every response seen, for the "no token anywhere" scan. */
  readonly seen: request.Response[] = [];

  constructor(readonly base: string) {
    this.agent = request.agent(base);
  }

  private track(res: request.Response) {
    this.seen.push(res);
    const c = cookiesOf(res).get('XSRF-TOKEN');
    if (c) this.csrf = c;
    return res;
  }

  async session() {
    return this.track(await this.agent.get('/bff/session'));
  }

  async get(path: string) {
    return this.track(await this.agent.get(path));
  }

  async send(method: 'post' | 'patch' | 'put' | 'delete', path: string, body?: unknown) {
    if (!this.csrf) await this.session();
    const req = this.agent[method](path).set('X-XSRF-TOKEN', this.csrf);
    return this.track(await (body === undefined ? req : req.send(body as object)));
  }

  post(path: string, body?: unknown) {
    return this.send('post', path, body);
  }

  async signup(username: string, password = 'a long password') {
    const res = await this.post('/bff/auth/signup', {
      username,
      email: `${username}@example.test`,
      password,
    });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
    return res;
  }

  tool(name: string, input: unknown = {}) {
    return this.post(`/bff/tools/${name}`, input);
  }
}

/**
 * "Sign in with Picard" as a browser does it: the BFF's start redirect, Picard's login (or sign-up)
 * and consent pages, and back to the BFF's callback URL (returned, not yet followed).
 */
export async function throughPicard(
  h: Harness,
  web: WebUser,
  user: { username: string; password: string; signup?: boolean },
  opts: { access?: 'read' | 'write' | 'admin'; decision?: 'approve' | 'deny' } = {},
): Promise<{ authorizationUrl: URL; callback: URL }> {
  const start = await web.get(`/bff/auth/picard/start${opts.access ? `?access=${opts.access}` : ''}`);
  if (start.status !== 302) throw new Error(`start answered ${start.status} ${start.text}`);
  const authorizationUrl = new URL(start.headers.location as string);
  const browser = new Browser(h.t.url);
  const login = await browser.get(authorizationUrl.toString());
  if (login.status !== 200) throw new Error(`authorize page: ${login.status}`);
  const fields = hiddenFields(login.html);
  const step = user.signup
    ? await browser.post('/authorize/signup', {
        ...fields,
        username: user.username,
        email: `${user.username}@example.test`,
        password: user.password,
      })
    : await browser.post('/authorize/login', { ...fields, username: user.username, password: user.password });
  if (step.status !== 303) throw new Error(`login page: ${step.status} ${step.html.slice(0, 500)}`);
  const consent = await browser.get(step.location!);
  if (!consent.html.includes('Allow access?'))
    throw new Error(`no consent page: ${consent.html.slice(0, 300)}`);
  const decision = await browser.post('/authorize/consent', {
    ...hiddenFields(consent.html),
    decision: opts.decision ?? 'approve',
  });
  if (decision.status !== 303) throw new Error(`consent: ${decision.status}`);
  return { authorizationUrl, callback: new URL(decision.location!) };
}

/** Where a redirect to the web app's /login page says the sign-in failed. */
export function loginErrorOf(res: request.Response): { error: string | null; message: string | null } {
  const location = new URL(res.headers.location as string, 'http://web.test');
  expect(location.pathname).toBe('/login');
  return { error: location.searchParams.get('error'), message: location.searchParams.get('message') };
}
