import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import * as oidc from 'openid-client';
import type { LoginRequest, SessionInfo, SignupRequest } from '../../../contract/bff-api.js';
import { BffError, notRegistered, parse, SessionExpiredError } from '../errors.js';
import { issueCsrf } from '../csrf.js';
import { CallbackError, SCOPES_FOR, type Access } from '../oauth.js';
import { hashPassword, verifyPassword, dummyHash } from '../passwords.js';
import { PicardHttpError, type TokenResponse } from '../picard.client.js';
import { destroySession, regenerate, saveSession, SESSION_COOKIE } from '../session.js';
import { isUniqueViolation, type UserRow } from '../store/users.store.js';
import { SCOPE, type Deps } from './context.js';

// Picard accepts 3-64 of [A-Za-z0-9._-]; the web app asks for a lower-case subset of that.
export const usernameSchema = z
  .string({ error: 'username is required' })
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9._-]{3,32}$/, 'username must be 3-32 characters: letters, digits, ".", "_" or "-"');
// Picard's own rule: one @, no spaces, a dot in the domain, at most 254 characters.
export const emailSchema = z
  .string({ error: 'email is required' })
  .trim()
  .max(254, 'email must be at most 254 characters')
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'email must be an email address');
export const newPasswordSchema = (field: string) =>
  z
    .string({ error: `${field} is required` })
    .min(8, `${field} must be at least 8 characters`)
    .max(1024, `${field} must be at most 1024 characters`);

const signupBody = z
  .object({ username: usernameSchema, email: emailSchema, password: newPasswordSchema('password') })
  .strict() satisfies z.ZodType<SignupRequest, unknown>;
const loginBody = z
  .object({
    username: z
      .string({ error: 'username is required' })
      .trim()
      .min(1, 'username is required')
      .max(64, 'username is too long'),
    password: z
      .string({ error: 'password is required' })
      .min(1, 'password is required')
      .max(1024, 'password is too long'),
  })
  .strict() satisfies z.ZodType<LoginRequest, unknown>;
const accessQuery = z.object({ access: z.enum(['read', 'write', 'admin']).default('write') });

const invalidCredentials = () =>
  new BffError(401, 'invalid_credentials', 'The username or password is wrong.');
const deactivated = () => new BffError(403, 'account_deactivated', 'This account has been deactivated.');

/** What GET /bff/session says; an ended sign-in makes it anonymous again. */
export async function sessionInfo(deps: Deps, req: Request): Promise<SessionInfo> {
  const anonymous = async (): Promise<SessionInfo> => ({
    authenticated: false,
    picard_sign_in_available: await deps.oauth.available(),
  });
  const { userId, grantId } = req.session;
  if (!userId || !grantId) return anonymous();
  const user = await deps.users.findById(userId);
  let scopes: string[] | undefined;
  try {
    if (user && !user.deactivated_at) scopes = await deps.vault.scopes({ id: grantId, userId });
  } catch (err) {
    if (!(err instanceof SessionExpiredError)) throw err;
  }
  if (!user || !scopes) {
    delete req.session.userId;
    delete req.session.grantId;
    return anonymous();
  }
  return {
    authenticated: true,
    user: {
      id: user.id,
      username: user.username,
      email: user.email,
      picard_user_id: user.picard_user_id,
      sign_in: user.sign_in,
    },
    scopes,
    can_write: scopes.includes(SCOPE.write),
    is_admin: scopes.includes(SCOPE.admin),
  };
}

/** A fresh session id for the signed-in user, holding the new sign-in's tokens and a new CSRF token. */
async function startSession(deps: Deps, req: Request, res: Response, user: UserRow, tokens: TokenResponse) {
  const grantId = await deps.vault.save(user.id, tokens);
  await regenerate(req);
  req.session.userId = user.id;
  req.session.grantId = grantId;
  issueCsrf(req, res, deps.config.secureCookies, true);
  await saveSession(req);
}

async function credentials(deps: Deps) {
  const creds = await deps.registration.credentials();
  if (!creds) throw notRegistered();
  return creds;
}

/** Direct connect: the user's Picard tokens, minted server-side with the client's credentials. */
async function directTokens(deps: Deps, user: { username: string; email: string }): Promise<TokenResponse> {
  try {
    return await deps.picard.userToken(await credentials(deps), user);
  } catch (err) {
    if (!(err instanceof PicardHttpError)) throw err;
    if (err.status === 403 && /created or who consented|admin/.test(err.body.message ?? '')) {
      throw new BffError(409, 'conflict', 'This username is taken; choose another.', 'username');
    }
    if (err.status === 401) {
      deps.logger.error('Picard refused the client credentials; re-register the web app');
      throw notRegistered();
    }
    throw err.toBffError();
  }
}

export function authRouter(deps: Deps): Router {
  const router = Router();
  const { config } = deps;
  const ipOf = (req: Request) => req.ip ?? 'unknown';

  router.get('/bff/session', async (req, res) => {
    issueCsrf(req, res, config.secureCookies);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await sessionInfo(deps, req));
  });

  router.post('/bff/auth/signup', async (req, res) => {
    const body = parse(signupBody, req.body ?? {});
    await deps.throttle.signup(ipOf(req));
    await credentials(deps);
    if (await deps.users.findByUsername(body.username)) {
      throw new BffError(409, 'conflict', 'This username is taken; choose another.', 'username');
    }
    const passwordHash = await hashPassword(body.password);
    const tokens = await directTokens(deps, body);
    let user: UserRow;
    try {
      user = await deps.users.insert({
        username: body.username,
        email: body.email,
        password_hash: passwordHash,
        picard_user_id: tokens.user_id!,
        sign_in: 'password',
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new BffError(409, 'conflict', 'This username is taken; choose another.', 'username');
      }
      throw err;
    }
    await startSession(deps, req, res, user, tokens);
    res.status(201).json(await sessionInfo(deps, req));
  });

  router.post('/bff/auth/login', async (req, res) => {
    const body = parse(loginBody, req.body ?? {});
    const ip = ipOf(req);
    await deps.throttle.check(body.username, ip);
    const user = await deps.users.findByUsername(body.username);
    const ok = await verifyPassword(body.password, user?.password_hash ?? (await dummyHash()));
    if (!user || !user.password_hash || !ok) {
      await deps.throttle.failed(body.username, ip);
      throw invalidCredentials();
    }
    await deps.throttle.succeeded(body.username, ip);
    if (user.deactivated_at) throw deactivated();
    const tokens = await directTokens(deps, user);
    await startSession(deps, req, res, user, tokens);
    res.json(await sessionInfo(deps, req));
  });

  router.post('/bff/auth/logout', async (req, res) => {
    const { userId, grantId } = req.session;
    if (userId && grantId) await deps.vault.revoke({ id: grantId, userId });
    await destroySession(req);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });

  // "Sign in with Picard": a browser navigation to Picard's own login and consent pages.
  router.get('/bff/auth/picard/start', async (req, res) => {
    const q = accessQuery.safeParse(req.query);
    if (!q.success) return loginError(res, 'invalid_argument', 'access must be read, write or admin.');
    if (!(await deps.oauth.available())) {
      return loginError(res, 'not_configured', notRegistered().message);
    }
    const access = q.data.access as Access;
    const state = oidc.randomState();
    const verifier = oidc.randomPKCECodeVerifier();
    let url: URL;
    try {
      url = await deps.oauth.authorizationUrl({ scope: SCOPES_FOR[access], state, verifier });
    } catch (err) {
      const e =
        err instanceof BffError ? err : new BffError(503, 'picard_unavailable', 'Picard cannot be reached.');
      return loginError(res, e.code, e.message);
    }
    req.session.oauth = { state, verifier, access, startedAt: Date.now() };
    await saveSession(req);
    res.redirect(302, url.toString());
  });

  router.get('/bff/auth/picard/callback', async (req, res) => {
    const pending = req.session.oauth;
    delete req.session.oauth;
    if (!pending || Date.now() - pending.startedAt > 15 * 60_000) {
      await saveSession(req);
      return loginError(
        res,
        'invalid_state',
        'This sign-in was not started here or took too long; please try again.',
      );
    }
    try {
      const tokens = await deps.oauth.exchangeCode(new URL(req.originalUrl, config.publicUrl), pending);
      const me = await deps.picard.me(tokens.access_token);
      let user = await deps.users.findByPicardId(me.id);
      if (!user) user = await createPicardUser(deps, me);
      if (user.deactivated_at) {
        await deps.oauth.revoke(tokens.refresh_token).catch(() => undefined);
        throw deactivated();
      }
      await startSession(deps, req, res, user, tokens);
      res.redirect(302, '/');
    } catch (err) {
      if (err instanceof CallbackError) return loginError(res, err.code, err.message);
      if (err instanceof BffError) return loginError(res, err.code, err.message);
      if (err instanceof PicardHttpError) {
        const e = err.toBffError();
        return loginError(res, e.code, e.message);
      }
      deps.logger.error({ err }, 'Picard sign-in failed');
      return loginError(res, 'internal', 'The sign-in failed; please try again.');
    }
  });
  return router;
}

/** A first sign-in with Picard: the local account mirrors the Picard one (no password here). */
async function createPicardUser(deps: Deps, me: { id: string; username: string; email: string }) {
  const candidates = [me.username, `${me.username}-${me.id.slice(0, 8)}`];
  for (const username of candidates) {
    try {
      return await deps.users.insert({
        username,
        email: me.email ?? '',
        password_hash: null,
        picard_user_id: me.id,
        sign_in: 'picard',
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const linked = await deps.users.findByPicardId(me.id);
      if (linked) return linked;
    }
  }
  throw new BffError(409, 'conflict', 'An account with this username exists already.', 'username');
}

function loginError(res: Response, code: string, message: string) {
  const q = new URLSearchParams({ error: code, message });
  res.redirect(302, `/login?${q.toString()}`);
}
