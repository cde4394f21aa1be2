import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { ADMIN, startTestStack, type TestStack } from '../../../../e2e/support/test-stack.js';
import { startBff, type RunningBff } from '../../../server/src/index.js';
import { openBffTestDatabase } from '../../../server/test/support/bff-harness.js';
import { Sealer } from '../../../server/src/sealing.js';
import { launchChromium } from './chromium.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The production build the BFF serves (client-app/web/dist/browser). */
export const WEB_DIR = path.resolve(here, '../../../web/dist/browser');

/** The browser suites test the built SPA: without it they stop at once, saying how to build it. */
export function requireBuiltSpa(): void {
  if (!existsSync(path.join(WEB_DIR, 'index.html'))) {
    throw new Error(
      `The web app is not built (${WEB_DIR}/index.html is missing): run npm run build -w client-app (npm install does it too), then run the browser suite again.`,
    );
  }
}

export interface WebStack {
  t: TestStack;
  bff: RunningBff;
  browser: Browser;
  /** Where the browser opens the web app: http://localhost:<port> (CLIENT_PUBLIC_URL). */
  url: string;
  /** Every Picard token set the BFF holds now (opened with its key): what must never reach a browser. */
  picardTokens(): Promise<{ userId: string; access: string; refresh: string }[]>;
  /** A fresh browser (own cookies and storage), tracked for the storage and response checks. */
  newUser(opts?: { viewport?: { width: number; height: number } }): Promise<WebUser>;
  stop(): Promise<void>;
}

/**
 * The whole thing a person uses: Picard's in-process stack (its public URL the real address, for
 * OAuth), the BFF started in-process and registered with Picard as the admin would, on its own
 * database and a free port, serving the built SPA; and Debian's chromium.
 */
export async function startWebStack(opts: { extraEnv?: NodeJS.ProcessEnv } = {}): Promise<WebStack> {
  requireBuiltSpa();
  const t = await startTestStack(opts.extraEnv ?? {}, { realPublicUrl: true });
  const cleanups: (() => Promise<unknown>)[] = [() => t.stop()];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const db = await openBffTestDatabase();
    cleanups.push(() => db.cleanup());
    // No CLIENT_PUBLIC_URL: the BFF derives http://localhost:<port it got>, and registers
    // <that>/bff/auth/picard/callback as its redirect URI.
    const tokenKey = randomBytes(32).toString('base64');
    const bff = await startBff({
      env: {},
      database: db.target,
      config: {
        CLIENT_PORT: 0,
        CLIENT_HOST: '127.0.0.1',
        PICARD_URL: t.url,
        ...(t.publicUrl !== t.url ? { PICARD_PUBLIC_URL: t.publicUrl } : {}),
        CLIENT_DATABASE_SCHEMA: db.schema,
        CLIENT_TOKEN_KEY: tokenKey,
        CLIENT_SESSION_SECRET: randomBytes(32).toString('hex'),
        CLIENT_WEB_DIR: WEB_DIR,
        CLIENT_SIGNUPS_PER_IP_PER_HOUR: 1000,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      },
      autoRegister: { username: ADMIN.username, password: ADMIN.password },
    });
    cleanups.push(() => bff.stop());
    if (!(await bff.registration.credentials())) throw new Error('the BFF did not register with Picard');
    const browser = await launchChromium();
    const users: WebUser[] = [];
    cleanups.push(async () => {
      for (const u of users) await u.context.close().catch(() => undefined);
      await browser.close();
    });
    const url = bff.config.publicUrl;
    return {
      t,
      bff,
      browser,
      url,
      async picardTokens() {
        const sealer = Sealer.fromBase64(tokenKey);
        const rows = await bff
          .knex('picard_tokens')
          .select('user_id', 'access_token', 'refresh_token', 'key_id');
        return rows.map(
          (r: { user_id: string; access_token: string; refresh_token: string; key_id: string }) => ({
            userId: r.user_id,
            access: sealer.open(r.access_token, r.user_id, r.key_id),
            refresh: sealer.open(r.refresh_token, r.user_id, r.key_id),
          }),
        );
      },
      async newUser(o = {}) {
        const context = await browser.newContext({
          baseURL: url,
          viewport: o.viewport ?? DESKTOP,
          acceptDownloads: true,
        });
        const u = new WebUser(context, await context.newPage(), url);
        users.push(u);
        return u;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };

/** A JSON Web Token's shape: two base64url JSON objects and a signature. */
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;

/** One person in their own browser context, with what the page saw recorded. */
export class WebUser {
  /** Every dialog (alert/confirm/prompt) the page opened: the XSS check needs none. */
  readonly dialogs: string[] = [];
  /** Bodies of every /bff response the page received (text; downloads included). */
  readonly bffBodies: { url: string; status: number; body: string }[] = [];
  private readonly pendingBodies: Promise<void>[] = [];
  readonly pageErrors: string[] = [];

  constructor(
    readonly context: BrowserContext,
    public page: Page,
    readonly base: string,
  ) {
    this.watch(page);
    context.on('page', (p) => this.watch(p));
  }

  private watch(page: Page) {
    page.on('dialog', (d) => {
      this.dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss().catch(() => undefined);
    });
    page.on('pageerror', (e) => this.pageErrors.push(e.message));
    page.on('response', (res) => {
      if (!new URL(res.url()).pathname.startsWith('/bff/')) return;
      this.pendingBodies.push(this.record(res));
    });
  }

  private async record(res: Response) {
    // Redirects have no body; a navigation away may discard one.
    const body = await res.text().catch(() => undefined);
    if (body !== undefined) this.bffBodies.push({ url: res.url(), status: res.status(), body });
  }

  /** Waits for the recorded response bodies to be read. */
  async settled(): Promise<void> {
    await Promise.all(this.pendingBodies);
  }

  async goto(pathname: string) {
    await this.page.goto(pathname);
  }

  /** The BFF's API from inside the page, as the SPA calls it (same origin, XSRF header echoed). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary JSON
  async api(method: string, pathname: string, body?: unknown): Promise<{ status: number; json: any }> {
    return this.page.evaluate(
      async ({ method, pathname, body }) => {
        const xsrf = document.cookie
          .split('; ')
          .find((c) => c.startsWith('XSRF-TOKEN='))
          ?.slice('XSRF-TOKEN='.length);
        const res = await fetch(pathname, {
          method,
          headers: {
            'content-type': 'application/json',
            ...(xsrf ? { 'x-xsrf-token': decodeURIComponent(xsrf) } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = text;
        }
        return { status: res.status, json };
      },
      { method, pathname, body },
    );
  }
}
