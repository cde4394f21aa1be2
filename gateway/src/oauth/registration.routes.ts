import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from '../schemas/zod.js';
import { callUnary } from '@picard/service-kit';
import type { ServiceClients } from '../clients/service-clients.js';
import { retryAfter, type SourceLimits } from '../http/source-limits.js';
import { appLogger, publicFailure } from '../http/http-errors.js';

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * RFC 7591 dynamic client registration, as 2025-era MCP hosts use it. Open to anyone; the
 * client is never first-party (no direct-connect tokens) and never gets memories:admin.
 */
export function registrationRouter(clients: ServiceClients, limits: SourceLimits): Router {
  const router = Router();
  router.post('/register', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) {
      res
        .status(400)
        .json({ error: 'invalid_client_metadata', error_description: 'the body must be a JSON object' });
      return;
    }
    try {
      await limits.registration(req);
      const registered = await callUnary(clients.auth.registerDynamicClient.bind(clients.auth), {
        clientName: typeof body.client_name === 'string' ? body.client_name : '',
        redirectUris: strings(body.redirect_uris),
        scopes: typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : [],
        grantTypes: strings(body.grant_types),
        tokenEndpointAuthMethod:
          typeof body.token_endpoint_auth_method === 'string' ? body.token_endpoint_auth_method : '',
        firstParty: false,
        // The per-source registration quota counts by the caller's address (as login throttling does).
        remoteIp: req.ip ?? '',
      });
      const c = registered.client!;
      res.status(201).json({
        client_id: c.clientId,
        ...(registered.clientSecret
          ? { client_secret: registered.clientSecret, client_secret_expires_at: 0 }
          : {}),
        client_id_issued_at: Math.floor((c.createdAt ?? new Date()).getTime() / 1000),
        client_name: c.clientName,
        redirect_uris: c.redirectUris,
        grant_types: c.grantTypes,
        response_types: ['code'],
        token_endpoint_auth_method: c.tokenEndpointAuthMethod,
        scope: c.scopes.join(' '),
      });
    } catch (err) {
      const e = publicFailure(err, appLogger(res));
      retryAfter(res, e);
      const status = e.code === 'resource_exhausted' ? 429 : e.httpStatus >= 500 ? e.httpStatus : 400;
      const error = e.field?.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata';
      res.status(status).json({ error, error_description: e.field ? `${e.field}: ${e.message}` : e.message });
    }
  });
  return router;
}

export function registerRegistrationOpenApi(registry: OpenAPIRegistry): void {
  const metadata = z
    .object({
      client_name: z.string().optional(),
      redirect_uris: z.array(z.string()).min(1),
      grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).optional(),
      token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
      scope: z.string().optional(),
    })
    .openapi('ClientMetadata');
  registry.registerPath({
    method: 'post',
    path: '/register',
    operationId: 'register_client',
    summary: 'RFC 7591 dynamic client registration (public clients: token_endpoint_auth_method "none")',
    tags: ['oauth'],
    security: [],
    request: { body: { content: { 'application/json': { schema: metadata } } } },
    responses: {
      201: { description: 'The registered client; client_secret only for confidential clients, shown once' },
      400: { description: 'invalid_redirect_uri or invalid_client_metadata' },
      429: {
        description:
          'Too many registrations this hour (from this source, or in all); Retry-After says when to try again',
      },
    },
  });
  const params = z.object({
    response_type: z.literal('code'),
    client_id: z
      .string()
      .describe('A registered client id, or an https URL of a Client ID Metadata Document'),
    redirect_uri: z.string(),
    scope: z.string().optional(),
    state: z.string().optional(),
    code_challenge: z.string(),
    code_challenge_method: z.literal('S256'),
    resource: z.string().optional(),
  });
  registry.registerPath({
    method: 'get',
    path: '/authorize',
    operationId: 'authorize',
    summary: 'Authorization endpoint: the login / sign-up page, then the consent page (HTML)',
    tags: ['oauth'],
    security: [],
    request: { query: params },
    responses: {
      200: { description: 'An HTML page' },
      303: { description: 'Back to redirect_uri with an RFC 6749 error (and state, iss)' },
      400: { description: 'HTML error page: the client or redirect_uri cannot be trusted' },
    },
  });
  for (const [path, operationId, summary] of [
    [
      '/authorize/login',
      'authorize_login',
      'Login form (username, password, csrf + the authorization parameters)',
    ],
    [
      '/authorize/signup',
      'authorize_signup',
      'Sign-up form (username, email, password, display_name, csrf + parameters)',
    ],
    [
      '/authorize/consent',
      'authorize_consent',
      'Consent form (decision=approve|deny, csrf + parameters) → 303 to redirect_uri with code or error',
    ],
  ] as const) {
    registry.registerPath({
      method: 'post',
      path,
      operationId,
      summary,
      tags: ['oauth'],
      // The pages' own cookies (browser session, CSRF pair) are no credential a client brings.
      security: [],
      request: {
        body: {
          content: { 'application/x-www-form-urlencoded': { schema: params.extend({ csrf: z.string() }) } },
        },
      },
      responses: {
        303: { description: 'Next step' },
        200: { description: 'The page again, with the error' },
        403: { description: 'CSRF check failed' },
      },
    });
  }
}
