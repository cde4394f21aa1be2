import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { Router } from 'express';
import { nonceOf } from './security.js';

// Angular's production build names bundles with a content hash (main-ABCD1234.js).
const HASHED = /[-.][A-Za-z0-9]{8,}\.(js|css|woff2?|ttf|svg|png|jpe?g|webp|ico)$/;

/**
 * The built SPA: hashed assets cached for a year; every other GET outside /bff (a client-side route)
 * answers index.html, never cached, with the request's CSP nonce in place of __CSP_NONCE__.
 */
export function spa(webDir: string): Router {
  const router = Router();
  const index = path.join(webDir, 'index.html');
  router.use(
    express.static(webDir, {
      index: false,
      redirect: false,
      setHeaders(res, file) {
        res.setHeader(
          'Cache-Control',
          HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );
  let cache: { mtimeMs: number; html: string } | undefined;
  router.get(/^(?!\/bff(\/|$)).*/, async (_req, res, next) => {
    try {
      const s = await stat(index).catch(() => undefined);
      if (!s) {
        res.status(503).type('html').setHeader('Cache-Control', 'no-store').send(NOT_BUILT);
        return;
      }
      if (cache?.mtimeMs !== s.mtimeMs) cache = { mtimeMs: s.mtimeMs, html: await readFile(index, 'utf8') };
      res
        .status(200)
        .type('html')
        .setHeader('Cache-Control', 'no-cache')
        .send(cache.html.replaceAll('__CSP_NONCE__', nonceOf(res)));
    } catch (err) {
      next(err);
    }
  });
  return router;
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Picard web: not built</title></head>
<body><h1>The web app is not built yet</h1>
<p>Run <code>npm run build -w client-app</code>, then reload this page.</p></body></html>`;
