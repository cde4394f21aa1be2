import session from 'express-session';
import { ConnectSessionKnexStore } from 'connect-session-knex';
import type { Knex } from 'knex';
import type { Request } from 'express';
import type { Access } from './oauth.js';
import { unauthenticated } from './errors.js';

declare module 'express-session' {
  interface SessionData {
    /** The CSRF token (double-submitted through the XSRF-TOKEN cookie). */
    csrf?: string;
    userId?: string;
    /** The picard_tokens row of this sign-in. */
    grantId?: string;
    /** A "Sign in with Picard" in progress. */
    oauth?: { state: string; verifier: string; access: Access; startedAt: number };
  }
}

export const SESSION_COOKIE = 'picard_web.sid';

/** Server-side sessions in the BFF's database; the browser holds only an opaque HttpOnly cookie. */
export function sessions(opts: { knex: Knex; secret: string; secure: boolean; ttlHours: number }) {
  const store = new ConnectSessionKnexStore({
    knex: opts.knex,
    tableName: 'sessions',
    createTable: false,
    cleanupInterval: 15 * 60_000,
    onDbCleanupError: () => undefined,
  });
  const middleware = session({
    name: SESSION_COOKIE,
    secret: opts.secret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: undefined,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: opts.secure,
      path: '/',
      maxAge: opts.ttlHours * 3600_000,
    },
  });
  return {
    middleware,
    close() {
      if (store.nextDbCleanup) clearTimeout(store.nextDbCleanup);
    },
  };
}

export interface SignedIn {
  userId: string;
  grantId: string;
}

/** The signed-in user of this request, or 401. */
export function signedIn(req: Request): SignedIn {
  const { userId, grantId } = req.session ?? {};
  if (!userId || !grantId) throw unauthenticated();
  return { userId, grantId };
}

/** A new session id (no fixation) keeping nothing of the anonymous one. */
export function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

export function destroySession(req: Request): Promise<void> {
  return new Promise((resolve) => req.session.destroy(() => resolve()));
}
