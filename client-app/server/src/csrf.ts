import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { BffError } from './errors.js';

export const CSRF_COOKIE = 'XSRF-TOKEN';
export const CSRF_HEADER = 'x-xsrf-token';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Angular's XSRF scheme: a random token kept in the session and given to the page as a
 * script-readable cookie; every state-changing /bff call must echo it in X-XSRF-TOKEN. Another site
 * can make the browser send the cookie but cannot read it to set the header.
 */
export function issueCsrf(req: Request, res: Response, secure: boolean, fresh = false): void {
  if (fresh || !req.session.csrf) req.session.csrf = randomBytes(32).toString('base64url');
  res.cookie(CSRF_COOKIE, req.session.csrf, { httpOnly: false, sameSite: 'lax', secure, path: '/' });
}

export function csrfProtection(req: Request, _res: Response, next: NextFunction): void {
  if (!UNSAFE.has(req.method)) return next();
  const expected = req.session?.csrf;
  const sent = req.get(CSRF_HEADER);
  if (!expected || !sent || !safeEqual(sent, expected)) {
    return next(
      new BffError(
        403,
        'csrf_failed',
        'The request lacks a valid CSRF token; reload the page and try again.',
      ),
    );
  }
  next();
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
