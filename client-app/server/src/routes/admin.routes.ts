import { Router, type Request } from 'express';
import { z } from 'zod';
import { forbidden, parse } from '../errors.js';
import { grantOf, SCOPE, scopesOf, withPicard, type Deps } from './context.js';

const usersQuery = z.object({
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(500, 'limit must be at most 500')
    .optional(),
  cursor: z.string().max(1000, 'cursor is too long').optional(),
});

/** The admin's views, passed through from Picard's /api/admin (needs a memories:admin grant). */
export function adminRouter(deps: Deps): Router {
  const router = Router();
  const adminGrant = async (req: Request) => {
    const grant = grantOf(req);
    if (!(await scopesOf(deps, grant)).includes(SCOPE.admin)) {
      throw forbidden(
        'Only the administrator may see this; sign in with Picard as the admin, granting admin access.',
      );
    }
    return grant;
  };

  router.get('/bff/admin/summary', async (req, res) => {
    const grant = await adminGrant(req);
    res.json(await withPicard(deps, grant, (token) => deps.picard.admin(token, 'summary')));
  });
  router.get('/bff/admin/users', async (req, res) => {
    const grant = await adminGrant(req);
    const q = parse(usersQuery, req.query);
    const query: Record<string, string> = {};
    if (q.limit !== undefined) query.limit = String(q.limit);
    if (q.cursor) query.cursor = q.cursor;
    res.json(await withPicard(deps, grant, (token) => deps.picard.admin(token, 'users', query)));
  });
  router.get('/bff/admin/clients', async (req, res) => {
    const grant = await adminGrant(req);
    res.json(await withPicard(deps, grant, (token) => deps.picard.admin(token, 'clients')));
  });
  return router;
}
