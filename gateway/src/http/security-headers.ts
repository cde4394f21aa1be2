import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's headers on every answer: nosniff, no framing, no referrer leaks, and HSTS when the
 * public URL is https (over plain http the header is meaningless and would pin a dev host).
 * The Content-Security-Policy fits the Swagger UI at /docs (scripts and styles from this origin,
 * its inline styles and data: images); the authorization pages send their own stricter one.
 */
export function securityHeaders(opts: { https: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(opts.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: opts.https ? { maxAge: 365 * 24 * 3600, includeSubDomains: false } : false,
  });
}
