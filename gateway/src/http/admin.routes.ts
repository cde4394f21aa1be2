import { Router, type NextFunction, type Request, type Response } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { callerMetadata, callUnary, DomainError, type Caller } from '@picard/service-kit';
import { AUTH_LIMITS } from '@picard/proto';
import { z } from '../schemas/zod.js';
import type { ServiceClients } from '../clients/service-clients.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { SCOPES, ALL_SCOPES } from '../auth/scopes.js';
import { fromZodError, handled, sendError } from './http-errors.js';

const registerClientBody = z
  .object({
    client_name: z.string().min(1).max(AUTH_LIMITS.clientNameChars),
    redirect_uris: z.array(z.string()).default([]),
    scopes: z.array(z.enum(ALL_SCOPES as [string, ...string[]])).default([SCOPES.read, SCOPES.write]),
  })
  .strict()
  .openapi('RegisterClientRequest');

const registeredClient = z
  .object({
    client_id: z.uuid(),
    client_secret: z.string().describe('Shown once; only a hash is stored.'),
    client_name: z.string(),
    redirect_uris: z.array(z.string()),
    scopes: z.array(z.string()),
  })
  .openapi('RegisteredClient');

/**
 * Admin endpoints accept HTTP Basic with the admin's own credentials (for bootstrapping, before
 * any client exists) or a bearer token carrying memories:admin.
 */
export function requireAdmin(clients: ServiceClients, verifier: TokenVerifier) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    try {
      let caller: Caller;
      if (/^Basic /i.test(header)) {
        const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
        const sep = decoded.indexOf(':');
        if (sep < 0) throw new DomainError('unauthenticated', 'malformed Basic credentials');
        const user = await callUnary(clients.auth.authenticateUser.bind(clients.auth), {
          username: decoded.slice(0, sep),
          password: decoded.slice(sep + 1),
          remoteIp: req.ip ?? '',
        });
        if (!user.isAdmin) throw new DomainError('permission_denied', 'only the admin may do this');
        caller = { userId: user.id, scopes: [SCOPES.admin], clientId: '' };
      } else if (/^Bearer /i.test(header)) {
        const token = await verifier.verify(header.slice(7).trim());
        if (!token.scopes.includes(SCOPES.admin)) {
          throw new DomainError('permission_denied', `this call needs the scope ${SCOPES.admin}`);
        }
        caller = { userId: token.userId, scopes: token.scopes, clientId: token.clientId };
      } else {
        res.setHeader('WWW-Authenticate', 'Basic realm="picard-admin", Bearer realm="picard"');
        throw new DomainError(
          'unauthenticated',
          'admin credentials are required (HTTP Basic or a bearer token)',
        );
      }
      res.locals.caller = caller;
      next();
    } catch (err) {
      sendError(res, err);
    }
  };
}

export function adminRouter(clients: ServiceClients, verifier: TokenVerifier): Router {
  const router = Router();
  router.post(
    '/api/admin/clients/register',
    requireAdmin(clients, verifier),
    handled(async (req, res) => {
      const parsed = registerClientBody.safeParse(req.body ?? {});
      if (!parsed.success) throw fromZodError(parsed.error);
      const body = parsed.data;
      const registered = await callUnary(
        clients.auth.registerClient.bind(clients.auth),
        {
          clientName: body.client_name,
          redirectUris: body.redirect_uris,
          scopes: body.scopes,
          grantTypes: ['authorization_code', 'refresh_token'],
          tokenEndpointAuthMethod: 'client_secret_basic',
          firstParty: true,
          remoteIp: '',
        },
        callerMetadata(res.locals.caller as Caller),
      );
      const client = registered.client!;
      res.status(201).setHeader('Cache-Control', 'no-store').json({
        client_id: client.clientId,
        client_secret: registered.clientSecret,
        client_name: client.clientName,
        redirect_uris: client.redirectUris,
        scopes: client.scopes,
      });
    }),
  );
  return router;
}

export function registerAdminOpenApi(registry: OpenAPIRegistry, errorSchema: z.ZodType): void {
  registry.registerPath({
    method: 'post',
    path: '/api/admin/clients/register',
    operationId: 'register_first_party_client',
    summary: 'Register a first-party OAuth client (admin only)',
    tags: ['admin'],
    security: [{ basicAuth: [] }, { bearerAuth: [SCOPES.admin] }],
    request: { body: { content: { 'application/json': { schema: registerClientBody } } } },
    responses: {
      201: {
        description: 'The client, with its secret (shown once)',
        content: { 'application/json': { schema: registeredClient } },
      },
      400: {
        description: 'Bad input; `field` names it',
        content: { 'application/json': { schema: errorSchema } },
      },
      401: { description: 'No or wrong credentials' },
      403: { description: 'Not the admin' },
    },
  });
}
