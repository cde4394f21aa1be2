import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { SignJWT, jwtVerify } from 'jose';

const SESSION_COOKIE = 'picard_session';
const CSRF_COOKIE = 'picard_csrf';
const SESSION_SECONDS = 15 * 60;

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * The login state of the authorization pages: a short-lived HS256 token in an HttpOnly,
 * SameSite=Lax cookie scoped to /authorize. It only says "this browser logged in as user X a few
 * minutes ago"; every decision is re-checked by auth-service.
 */
export class BrowserSessions {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly secure: boolean,
  ) {
    this.key = new TextEncoder().encode(secret);
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

  async start(res: Response, userId: string): Promise<void> {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(`${SESSION_SECONDS}s`)
      .sign(this.key);
    res.cookie(SESSION_COOKIE, token, this.cookieOptions(SESSION_SECONDS));
  }

  async userId(req: Request): Promise<string | undefined> {
    const token = readCookie(req, SESSION_COOKIE);
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      return payload.sub;
    } catch {
      return undefined;
    }
  }

  end(res: Response): void {
    res.clearCookie(SESSION_COOKIE, { path: '/authorize' });
  }

  /** Double-submit CSRF token: the same random value in a cookie and in the form. */
  csrfToken(req: Request, res: Response): string {
    const existing = readCookie(req, CSRF_COOKIE);
    if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
    const token = randomBytes(32).toString('base64url');
    res.cookie(CSRF_COOKIE, token, this.cookieOptions(60 * 60));
    return token;
  }

  csrfValid(req: Request): boolean {
    const cookie = readCookie(req, CSRF_COOKIE);
    const field = (req.body as Record<string, unknown> | undefined)?.csrf;
    if (!cookie || typeof field !== 'string' || cookie.length !== field.length) return false;
    return timingSafeEqual(Buffer.from(cookie), Buffer.from(field));
  }
}
