import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { parseCookie } from 'cookie';
import { doubleCsrf } from 'csrf-csrf';
import { SignJWT, jwtVerify } from 'jose';

const SESSION_COOKIE = 'picard_session';
const SID_COOKIE = 'picard_sid';
const CSRF_COOKIE = 'picard_csrf';
const SESSION_SECONDS = 15 * 60;
const SID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/**
 * The cookies of a request. `cookie` leaves a value it cannot URL-decode as it is, so a malformed
 * cookie reads as an unknown value (no session), never as an error.
 */
export function cookiesOf(req: Request): Record<string, string | undefined> {
  return parseCookie(req.headers.cookie ?? '');
}

const withCookies = (req: Request): Request & { cookies: Record<string, string | undefined> } => {
  const r = req as Request & { cookies?: Record<string, string | undefined> };
  r.cookies ??= cookiesOf(req);
  return r as Request & { cookies: Record<string, string | undefined> };
};

/**
 * The login state of the authorization pages: a short-lived HS256 token in an HttpOnly,
 * SameSite=Lax cookie scoped to /authorize. It only says "this browser logged in as user X a few
 * minutes ago"; every decision is re-checked by auth-service.
 *
 * Forms carry a csrf-csrf double-submit token whose HMAC covers a random browser-session id (its own
 * cookie, renewed at login and logout), so a token and cookie pair taken from one browser session
 * is refused in another, even by an attacker who can plant cookies.
 */
export class BrowserSessions {
  private readonly key: Uint8Array;
  private readonly csrf: ReturnType<typeof doubleCsrf>;

  constructor(
    secret: string,
    private readonly secure: boolean,
  ) {
    this.key = new TextEncoder().encode(secret);
    this.csrf = doubleCsrf({
      getSecret: () => `csrf:${secret}`,
      getSessionIdentifier: (req) => BrowserSessions.sid(req) ?? '',
      cookieName: CSRF_COOKIE,
      cookieOptions: { ...this.cookieOptions(60 * 60) },
      getCsrfTokenFromRequest: (req) => {
        const field = (req.body as Record<string, unknown> | undefined)?.csrf;
        return typeof field === 'string' ? field : undefined;
      },
    });
  }

  private cookieOptions(maxAgeSeconds: number) {
    return {
      httpOnly: true,
      sameSite: 'lax' as const,
      secure: this.secure,
      path: '/authorize',
      maxAge: maxAgeSeconds * 1000,
    };
  }

  /** The browser-session id: the one set during this request, else the cookie's when well-formed. */
  private static sid(req: Request): string | undefined {
    const fresh = (req as Request & { picardSid?: string }).picardSid;
    if (fresh) return fresh;
    const cookie = withCookies(req).cookies[SID_COOKIE];
    return cookie && SID_PATTERN.test(cookie) ? cookie : undefined;
  }

  private newSid(req: Request, res: Response): void {
    const sid = randomBytes(24).toString('base64url');
    (req as Request & { picardSid?: string }).picardSid = sid;
    res.cookie(SID_COOKIE, sid, this.cookieOptions(60 * 60));
  }

  async start(req: Request, res: Response, userId: string): Promise<void> {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(`${SESSION_SECONDS}s`)
      .sign(this.key);
    res.cookie(SESSION_COOKIE, token, this.cookieOptions(SESSION_SECONDS));
    // A new id at login: forms rendered before it (or planted by someone else) stop working.
    this.newSid(req, res);
  }

  async userId(req: Request): Promise<string | undefined> {
    const token = withCookies(req).cookies[SESSION_COOKIE];
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      return payload.sub;
    } catch {
      return undefined;
    }
  }

  end(req: Request, res: Response): void {
    res.clearCookie(SESSION_COOKIE, { path: '/authorize' });
    this.newSid(req, res);
  }

  /** The token for the forms of this page; starts a browser session when there is none. */
  csrfToken(req: Request, res: Response): string {
    if (!BrowserSessions.sid(req)) this.newSid(req, res);
    return this.csrf.generateCsrfToken(withCookies(req), res);
  }

  csrfValid(req: Request): boolean {
    if (!BrowserSessions.sid(req)) return false;
    return this.csrf.validateRequest(withCookies(req));
  }
}
