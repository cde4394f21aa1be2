import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { callerMetadata, callUnary } from '@picard/service-kit';
import type { authPb } from '@picard/proto';
import { z } from '../schemas/zod.js';
import type { ServiceClients } from '../clients/service-clients.js';
import { callerOf, requireScope } from '../auth/bearer.js';
import { SCOPES } from '../auth/scopes.js';
import { fromZodError, handled } from './http-errors.js';

export const userSchema = z
  .object({
    id: z.uuid(),
    username: z.string(),
    email: z.string(),
    display_name: z.string(),
    is_admin: z.boolean(),
    active: z.boolean(),
    created_at: z.string(),
  })
  .openapi('User');

export const userToJson = (u: authPb.User) => ({
  id: u.id,
  username: u.username,
  email: u.email,
  display_name: u.displayName,
  is_admin: u.isAdmin,
  active: u.active,
  created_at: (u.createdAt ?? new Date(0)).toISOString(),
});

const profileBody = z
  .object({ email: z.string().optional(), display_name: z.string().optional() })
  .strict()
  .openapi('ProfileUpdate');
const passwordBody = z
  .object({ current_password: z.string(), new_password: z.string() })
  .strict()
  .openapi('PasswordChange');

export const consentSchema = z
  .object({
    client_id: z.uuid(),
    client_name: z.string(),
    scopes: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Consent');

const consentToJson = (c: authPb.Consent) => ({
  client_id: c.clientId,
  client_name: c.clientName,
  scopes: c.scopes,
  created_at: (c.createdAt ?? new Date(0)).toISOString(),
  updated_at: (c.updatedAt ?? new Date(0)).toISOString(),
});

const me = (req: Request) => {
  const caller = callerOf(req.auth)!;
  return { caller, metadata: callerMetadata(caller) };
};

/** The signed-in user's own account: profile, password, deactivation, consents. */
export function usersRouter(clients: ServiceClients, resourceMetadataUrl: string): Router {
  const router = Router();
  const auth = clients.auth;
  const read = requireScope(resourceMetadataUrl, SCOPES.read);
  const write = requireScope(resourceMetadataUrl, SCOPES.write);

  router.get(
    '/api/users/me',
    read,
    handled(async (req, res) => {
      const { caller, metadata } = me(req);
      res.json(userToJson(await callUnary(auth.getUser.bind(auth), { userId: caller.userId }, metadata)));
    }),
  );

  router.patch(
    '/api/users/me',
    write,
    handled(async (req, res) => {
      const parsed = profileBody.safeParse(req.body ?? {});
      if (!parsed.success) throw fromZodError(parsed.error);
      const { caller, metadata } = me(req);
      const user = await callUnary(
        auth.updateUser.bind(auth),
        { userId: caller.userId, email: parsed.data.email, displayName: parsed.data.display_name },
        metadata,
      );
      res.json(userToJson(user));
    }),
  );

  router.post(
    '/api/users/me/password',
    write,
    handled(async (req, res) => {
      const parsed = passwordBody.safeParse(req.body ?? {});
      if (!parsed.success) throw fromZodError(parsed.error);
      const { caller, metadata } = me(req);
      await callUnary(
        auth.changePassword.bind(auth),
        {
          userId: caller.userId,
          currentPassword: parsed.data.current_password,
          newPassword: parsed.data.new_password,
        },
        metadata,
      );
      res.status(204).end();
    }),
  );

  router.get(
    '/api/users/me/consents',
    read,
    handled(async (req, res) => {
      const { caller, metadata } = me(req);
      const { consents } = await callUnary(auth.listConsents.bind(auth), { userId: caller.userId }, metadata);
      res.json({ consents: consents.map(consentToJson) });
    }),
  );

  router.delete(
    '/api/users/me/consents/:client_id',
    write,
    handled(async (req, res) => {
      const { caller, metadata } = me(req);
      const result = await callUnary(
        auth.withdrawConsent.bind(auth),
        { userId: caller.userId, clientId: String(req.params.client_id) },
        metadata,
      );
      if (!result.withdrawn) {
        res
          .status(404)
          .json({ error: 'not_found', message: 'no consent for this client', field: 'client_id' });
        return;
      }
      res.status(204).end();
    }),
  );

  router.post(
    '/api/users/me/deactivate',
    write,
    handled(async (req, res) => {
      const { caller, metadata } = me(req);
      res.json(
        userToJson(await callUnary(auth.deactivateUser.bind(auth), { userId: caller.userId }, metadata)),
      );
    }),
  );
  return router;
}

export function registerUsersOpenApi(registry: OpenAPIRegistry, errorSchema: z.ZodType): void {
  const errors = {
    400: {
      description: 'Bad input; `field` names it',
      content: { 'application/json': { schema: errorSchema } },
    },
    401: { description: 'Missing or invalid token' },
    403: { description: 'The token lacks the scope' },
  };
  const user = { description: 'The account', content: { 'application/json': { schema: userSchema } } };
  registry.registerPath({
    method: 'get',
    path: '/api/users/me',
    operationId: 'get_me',
    summary: 'Your account',
    tags: ['users'],
    security: [{ bearerAuth: [SCOPES.read] }],
    responses: { 200: user, ...errors },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/users/me',
    operationId: 'update_me',
    summary: 'Change your email or display name',
    tags: ['users'],
    security: [{ bearerAuth: [SCOPES.write] }],
    request: { body: { content: { 'application/json': { schema: profileBody } } } },
    responses: { 200: user, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/users/me/password',
    operationId: 'change_password',
    summary: 'Change your password (revokes your refresh tokens)',
    tags: ['users'],
    security: [{ bearerAuth: [SCOPES.write] }],
    request: { body: { content: { 'application/json': { schema: passwordBody } } } },
    responses: { 204: { description: 'Changed' }, ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/users/me/deactivate',
    operationId: 'deactivate_me',
    summary: 'Deactivate your account; every token of yours stops working',
    tags: ['users'],
    security: [{ bearerAuth: [SCOPES.write] }],
    responses: { 200: user, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/users/me/consents',
    operationId: 'list_consents',
    summary: 'The clients you allowed to act for you, and with which scopes',
    tags: ['users'],
    security: [{ bearerAuth: [SCOPES.read] }],
    responses: {
      200: {
        description: 'Your consents, newest first',
        content: { 'application/json': { schema: z.object({ consents: z.array(consentSchema) }) } },
      },
      ...errors,
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/users/me/consents/{client_id}',
    operationId: 'withdraw_consent',
    summary: "Withdraw a consent: the client's tokens for you stop working and it may not mint new ones",
    tags: ['users'],
    security: [{ bearerAuth: [SCOPES.write] }],
    request: { params: z.object({ client_id: z.uuid() }) },
    responses: {
      204: { description: 'Withdrawn' },
      404: {
        description: 'No consent for this client',
        content: { 'application/json': { schema: errorSchema } },
      },
      ...errors,
    },
  });
}
