import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { callerMetadata, callUnary, type Caller } from '@picard/service-kit';
import type { z } from '../schemas/zod.js';
import type { ServiceClients } from '../clients/service-clients.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { SCOPES } from '../auth/scopes.js';
import { adminSummarySchema, byPermission } from '../schemas/activity.schema.js';
import { requireAdmin } from './admin.routes.js';
import { handled } from './http-errors.js';

/** GET /api/admin/summary: usage across every user; memory-service re-checks memories:admin. */
export function adminSummaryRouter(clients: ServiceClients, verifier: TokenVerifier): Router {
  const router = Router();
  const gate = requireAdmin(clients, verifier);
  router.get(
    '/api/admin/summary',
    // The admin routers share the /api/admin prefix: don't check the same credentials twice.
    (req, res, next) => (res.locals.caller ? next() : gate(req, res, next)),
    handled(async (_req, res) => {
      const s = await callUnary(
        clients.memory.getAdminSummary.bind(clients.memory),
        {},
        callerMetadata(res.locals.caller as Caller),
      );
      res.json({
        users: s.users,
        memories: s.memories,
        memories_by_permission: byPermission(s.memoriesByPermission),
        searches: s.searches,
      });
    }),
  );
  return router;
}

export function registerAdminSummaryOpenApi(registry: OpenAPIRegistry, errorSchema: z.ZodType): void {
  registry.registerPath({
    method: 'get',
    path: '/api/admin/summary',
    operationId: 'get_admin_summary',
    tags: ['admin'],
    summary: 'Usage across every user: users, live memories by permission, searches',
    security: [{ basicAuth: [] }, { bearerAuth: [SCOPES.admin] }],
    responses: {
      200: { description: 'The summary', content: { 'application/json': { schema: adminSummarySchema } } },
      401: { description: 'No or wrong credentials' },
      403: {
        description: 'Not the admin',
        content: { 'application/json': { schema: errorSchema } },
      },
    },
  });
}
