import { Router, type Response } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { callerMetadata, callUnary, type Caller } from '@picard/service-kit';
import { AUTH_LIMITS, type authPb } from '@picard/proto';
import { z } from '../schemas/zod.js';
import type { ServiceClients } from '../clients/service-clients.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { ALL_SCOPES, SCOPES } from '../auth/scopes.js';
import { requireAdmin } from './admin.routes.js';
import { userSchema, userToJson } from './users.routes.js';
import { fromZodError, handled } from './http-errors.js';

const clientSchema = z
  .object({
    client_id: z.string(),
    client_name: z.string(),
    redirect_uris: z.array(z.string()),
    scopes: z.array(z.string()),
    grant_types: z.array(z.string()),
    token_endpoint_auth_method: z.string(),
    first_party: z.boolean(),
    user_token_flow_enabled: z.boolean(),
    service_principal: z.boolean(),
    created_at: z.string(),
  })
  .openapi('Client');

const clientToJson = (c: authPb.Client) => ({
  client_id: c.clientId,
  client_name: c.clientName,
  redirect_uris: c.redirectUris,
  scopes: c.scopes,
  grant_types: c.grantTypes,
  token_endpoint_auth_method: c.tokenEndpointAuthMethod,
  first_party: c.firstParty,
  user_token_flow_enabled: c.userTokenFlowEnabled,
  service_principal: c.servicePrincipal,
  created_at: (c.createdAt ?? new Date(0)).toISOString(),
});

const clientUpdate = z
  .object({
    client_name: z.string().optional(),
    redirect_uris: z.array(z.string()).optional(),
    scopes: z.array(z.enum(ALL_SCOPES as [string, ...string[]])).optional(),
    user_token_flow_enabled: z.boolean().optional(),
    // A service principal may use client_credentials and act as itself (sub = its id) on user-data tools.
    service_principal: z.boolean().optional(),
  })
  .strict()
  .openapi('ClientUpdate');

const admin = (res: Response) => callerMetadata(res.locals.caller as Caller);
const param = (v: unknown) => (typeof v === 'string' ? v : '');

/** The operator's view: every client and user; auth-service re-checks that the caller is the admin. */
export function adminManageRouter(clients: ServiceClients, verifier: TokenVerifier): Router {
  const router = Router();
  const auth = clients.auth;
  router.use('/api/admin', requireAdmin(clients, verifier));

  router.get(
    '/api/admin/clients',
    handled(async (_req, res) => {
      const { clients: list } = await callUnary(auth.listClients.bind(auth), {}, admin(res));
      res.json({ clients: list.map(clientToJson) });
    }),
  );
  router.patch(
    '/api/admin/clients/:client_id',
    handled(async (req, res) => {
      const parsed = clientUpdate.safeParse(req.body ?? {});
      if (!parsed.success) throw fromZodError(parsed.error);
      const b = parsed.data;
      const client = await callUnary(
        auth.updateClient.bind(auth),
        {
          clientId: param(req.params.client_id),
          clientName: b.client_name,
          redirectUris: b.redirect_uris ?? [],
          scopes: b.scopes ?? [],
          userTokenFlowEnabled: b.user_token_flow_enabled,
          servicePrincipal: b.service_principal,
        },
        admin(res),
      );
      res.json(clientToJson(client));
    }),
  );
  router.delete(
    '/api/admin/clients/:client_id',
    handled(async (req, res) => {
      await callUnary(auth.deleteClient.bind(auth), { clientId: param(req.params.client_id) }, admin(res));
      res.status(204).end();
    }),
  );
  router.post(
    '/api/admin/clients/:client_id/rotate-secret',
    handled(async (req, res) => {
      const r = await callUnary(
        auth.rotateClientSecret.bind(auth),
        { clientId: param(req.params.client_id) },
        admin(res),
      );
      res
        .setHeader('Cache-Control', 'no-store')
        .json({ ...clientToJson(r.client!), client_secret: r.clientSecret });
    }),
  );
  router.get(
    '/api/admin/users',
    handled(async (req, res) => {
      const limit = Number(req.query.limit ?? 0);
      const r = await callUnary(
        auth.listUsers.bind(auth),
        // Past int32 the request would not serialize (a 500); -1, like any bad limit, is refused naming it.
        { limit: (limit | 0) === limit ? limit : -1, cursor: param(req.query.cursor) },
        admin(res),
      );
      res.json({ users: r.users.map(userToJson), next_cursor: r.nextCursor ?? null });
    }),
  );
  router.post(
    '/api/admin/users/:user_id/deactivate',
    handled(async (req, res) => {
      res.json(
        userToJson(
          await callUnary(auth.deactivateUser.bind(auth), { userId: param(req.params.user_id) }, admin(res)),
        ),
      );
    }),
  );
  return router;
}

export function registerAdminManageOpenApi(registry: OpenAPIRegistry, errorSchema: z.ZodType): void {
  const security: Record<string, string[]>[] = [{ basicAuth: [] }, { bearerAuth: [SCOPES.admin] }];
  const json = (schema: z.ZodType, description: string) => ({
    description,
    content: { 'application/json': { schema } },
  });
  const errors = {
    400: json(errorSchema, 'Bad input; `field` names it'),
    401: { description: 'No or wrong credentials' },
    403: { description: 'Not the admin' },
    404: { description: 'No such client or user' },
  };
  const clientId = z.object({ client_id: z.string() });
  registry.registerPath({
    method: 'get',
    path: '/api/admin/clients',
    operationId: 'list_clients',
    tags: ['admin'],
    summary: 'List clients',
    security,
    responses: { 200: json(z.object({ clients: z.array(clientSchema) }), 'Clients'), ...errors },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/admin/clients/{client_id}',
    operationId: 'update_client',
    tags: ['admin'],
    summary:
      'Change a client (name, redirect URIs, scopes, direct-connect flow on/off, service principal on/off)',
    security,
    request: { params: clientId, body: { content: { 'application/json': { schema: clientUpdate } } } },
    responses: { 200: json(clientSchema, 'The client'), ...errors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/admin/clients/{client_id}',
    operationId: 'delete_client',
    tags: ['admin'],
    summary: 'Delete a client (its refresh tokens die with it)',
    security,
    request: { params: clientId },
    responses: { 204: { description: 'Deleted' }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/admin/clients/{client_id}/rotate-secret',
    operationId: 'rotate_client_secret',
    tags: ['admin'],
    summary: 'New client secret (shown once; the old one stops working)',
    security,
    request: { params: clientId },
    responses: {
      200: json(clientSchema.extend({ client_secret: z.string() }), 'The client with its new secret'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/admin/users',
    operationId: 'list_users',
    tags: ['admin'],
    summary: 'List users, paged',
    security,
    request: {
      query: z.object({
        limit: z.number().int().min(1).max(AUTH_LIMITS.userPage.max).optional(),
        cursor: z.string().optional(),
      }),
    },
    responses: {
      200: json(z.object({ users: z.array(userSchema), next_cursor: z.string().nullable() }), 'Users'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/admin/users/{user_id}/deactivate',
    operationId: 'deactivate_user',
    tags: ['admin'],
    summary: 'Deactivate a user; their tokens stop working',
    security,
    request: { params: z.object({ user_id: z.uuid() }) },
    responses: { 200: json(userSchema, 'The user'), ...errors },
  });
}
