import express, { type Express, type RequestHandler } from 'express';
import { csrfProtection } from './csrf.js';
import { BffError, errorHandler } from './errors.js';
import { securityHeaders } from './security.js';
import { spa } from './spa.js';
import type { Deps } from './routes/context.js';
import { authRouter } from './routes/auth.routes.js';
import { accountRouter } from './routes/account.routes.js';
import { toolsRouter } from './routes/tools.routes.js';
import { importsRouter } from './routes/imports.routes.js';
import { exportsRouter } from './routes/exports.routes.js';
import { personasRouter } from './routes/personas.routes.js';
import { adminRouter } from './routes/admin.routes.js';

export const JSON_LIMIT = '64kb';
/** Picard takes at most 8 MiB of text per import; JSON escaping adds some on the way here. */
export const IMPORT_LIMIT = '10mb';

/** The BFF's HTTP surface: security headers, sessions, CSRF, the /bff API, then the SPA. */
export function createApp(deps: Deps, session: RequestHandler): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders({ picardOrigin: new URL(config.issuer).origin, https: config.secureCookies }));

  // Liveness for launchers and load balancers: no session, no database, no Picard.
  app.get('/bff/health', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  app.use('/bff', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use('/bff', session);
  // Before the body is read: a forged request is refused without parsing 10 MB first.
  app.use('/bff', csrfProtection);
  app.use('/bff/imports', express.json({ limit: IMPORT_LIMIT }));
  app.use('/bff', express.json({ limit: JSON_LIMIT }));

  app.use(authRouter(deps));
  app.use(accountRouter(deps));
  app.use(toolsRouter(deps));
  app.use(importsRouter(deps));
  app.use(exportsRouter(deps));
  app.use(personasRouter(deps));
  app.use(adminRouter(deps));
  app.use('/bff', () => {
    throw new BffError(404, 'not_found', 'There is no such endpoint.');
  });

  app.use(spa(config.CLIENT_WEB_DIR));
  app.use(errorHandler(deps.logger, { json: JSON_LIMIT, imports: IMPORT_LIMIT }));
  return app;
}
