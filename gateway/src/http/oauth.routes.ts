import express, { Router, type Request, type Response } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { callUnary } from '@picard/service-kit';
import type { authPb } from '@picard/proto';
import { z } from '../schemas/zod.js';
import type { ServiceClients } from '../clients/service-clients.js';
import { ALL_SCOPES, SCOPES } from '../auth/scopes.js';
import { fromZodError, handled, sendError } from './http-errors.js';

const userTokenBody = z
  .object({
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    username: z.string().min(1),
    email: z.string().min(1),
    create_if_missing: z.boolean().default(false),
  })
  .strict()
  .openapi('UserTokenRequest');

const tokenResponse = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int(),
    scope: z.string(),
    user_id: z.uuid().optional(),
  })
  .openapi('TokenResponse');

const asStringMap = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(typeof value === 'object' && value !== null ? value : {})
      .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      .map(([k, v]) => [k, String(v)]),
  );

/** Carries an OAuth HTTP request to auth-service as-is and relays its answer unchanged. */
function relay(call: (req: authPb.OAuthRequest) => Promise<authPb.OAuthResponse>) {
  return async (req: Request, res: Response) => {
    try {
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer = await call({
        method: req.method,
        headers,
        query: asStringMap(req.query),
        body: asStringMap(req.body),
      });
      res.status(answer.status);
      for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
      res.type('application/json').send(answer.bodyJson || '{}');
    } catch (err) {
      sendError(res, err);
    }
  };
}

export function oauthRouter(clients: ServiceClients, publicUrl: string, cimdEnabled: boolean): Router {
  const router = Router();
  const auth = clients.auth;
  const form = express.urlencoded({ extended: false, limit: '64kb' });

  router.post(
    '/api/user-tokens/user-token',
    handled(async (req, res) => {
      const parsed = userTokenBody.safeParse(req.body ?? {});
      if (!parsed.success) throw fromZodError(parsed.error);
      const b = parsed.data;
      const t = await callUnary(auth.issueUserToken.bind(auth), {
        clientId: b.client_id,
        clientSecret: b.client_secret,
        username: b.username,
        email: b.email,
        createIfMissing: b.create_if_missing,
      });
      res.setHeader('Cache-Control', 'no-store');
      res.json({
        access_token: t.accessToken,
        refresh_token: t.refreshToken,
        token_type: t.tokenType,
        expires_in: t.expiresIn,
        scope: t.scope,
        user_id: t.userId,
      });
    }),
  );

  router.post(
    '/token',
    form,
    relay((r) => callUnary(auth.token.bind(auth), r)),
  );
  router.post(
    '/revoke',
    form,
    relay((r) => callUnary(auth.revoke.bind(auth), r)),
  );
  router.post(
    '/introspect',
    form,
    relay((r) => callUnary(auth.introspect.bind(auth), r)),
  );

  router.get(
    '/.well-known/jwks.json',
    handled(async (_req, res) => {
      const { keysJson } = await callUnary(auth.getJwks.bind(auth), {});
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('application/json').send(keysJson);
    }),
  );

  // RFC 9728: which authorization server protects this resource, and with which scopes.
  const protectedResource = (resource: string) => ({
    resource,
    authorization_servers: [publicUrl],
    // What a host should ask for; memories:admin exists (see the server metadata) but is for operators.
    scopes_supported: [SCOPES.read, SCOPES.write],
    bearer_methods_supported: ['header'],
    resource_name: 'Picard',
  });
  router.get('/.well-known/oauth-protected-resource', (_req, res) => res.json(protectedResource(publicUrl)));
  router.get('/.well-known/oauth-protected-resource/mcp', (_req, res) =>
    res.json(protectedResource(`${publicUrl}/mcp`)),
  );
  // RFC 8414; also served under the OpenID name, which some hosts try first.
  const serverMetadata = {
    issuer: publicUrl,
    authorization_endpoint: `${publicUrl}/authorize`,
    token_endpoint: `${publicUrl}/token`,
    registration_endpoint: `${publicUrl}/register`,
    revocation_endpoint: `${publicUrl}/revoke`,
    introspection_endpoint: `${publicUrl}/introspect`,
    jwks_uri: `${publicUrl}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ALL_SCOPES,
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: cimdEnabled,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  };
  router.get('/.well-known/oauth-authorization-server', (_req, res) => res.json(serverMetadata));
  router.get('/.well-known/openid-configuration', (_req, res) => res.json(serverMetadata));
  return router;
}

export function registerOAuthOpenApi(registry: OpenAPIRegistry, errorSchema: z.ZodType): void {
  registry.registerPath({
    method: 'post',
    path: '/api/user-tokens/user-token',
    operationId: 'issue_user_token',
    summary: 'Direct-connect: a first-party client gets tokens for one of its users',
    description:
      'For confidential clients registered by the admin. Never issues a token for the admin account.',
    tags: ['oauth'],
    // The client's credentials travel in the body, which no OpenAPI security scheme describes.
    security: [],
    request: { body: { content: { 'application/json': { schema: userTokenBody } } } },
    responses: {
      200: { description: 'Tokens', content: { 'application/json': { schema: tokenResponse } } },
      400: {
        description: 'Bad input; `field` names it',
        content: { 'application/json': { schema: errorSchema } },
      },
      401: { description: 'Invalid client credentials' },
      403: { description: 'Client not allowed to use this flow, or the user is the admin' },
      404: { description: 'No such user and create_if_missing is false' },
    },
  });
  const oauthForm = (fields: Record<string, z.ZodType>) => ({
    body: { content: { 'application/x-www-form-urlencoded': { schema: z.object(fields) } } },
  });
  registry.registerPath({
    method: 'post',
    path: '/token',
    operationId: 'token',
    summary: 'OAuth 2.1 token endpoint (refresh_token grant; rotates refresh tokens)',
    tags: ['oauth'],
    security: [{ basicAuth: [] }, {}],
    request: oauthForm({
      grant_type: z.literal('refresh_token'),
      refresh_token: z.string(),
      client_id: z.string().optional(),
      client_secret: z.string().optional(),
      scope: z.string().optional(),
    }),
    responses: {
      200: { description: 'A new token pair', content: { 'application/json': { schema: tokenResponse } } },
      400: { description: 'RFC 6749 error (invalid_grant, invalid_request, ...)' },
      401: { description: 'invalid_client' },
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/revoke',
    operationId: 'revoke_token',
    summary: 'RFC 7009 token revocation',
    tags: ['oauth'],
    security: [{ basicAuth: [] }, {}],
    request: oauthForm({
      token: z.string(),
      token_type_hint: z.enum(['access_token', 'refresh_token']).optional(),
    }),
    responses: { 200: { description: 'Revoked (or unknown token)' }, 401: { description: 'invalid_client' } },
  });
  registry.registerPath({
    method: 'post',
    path: '/introspect',
    operationId: 'introspect_token',
    summary: 'RFC 7662 token introspection',
    tags: ['oauth'],
    // client_secret_basic, or client_secret_post (the credentials in the form: no HTTP scheme).
    security: [{ basicAuth: [] }, {}],
    request: oauthForm({ token: z.string() }),
    responses: {
      200: { description: 'Introspection result' },
      400: { description: 'RFC 6749 error (invalid_request, ...)' },
      401: { description: 'invalid_client' },
    },
  });
  for (const [path, operationId, summary] of [
    ['/.well-known/jwks.json', 'get_jwks', 'The public keys access tokens are signed with (JWKS)'],
    [
      '/.well-known/oauth-protected-resource',
      'get_protected_resource_metadata',
      'RFC 9728 protected resource metadata of the REST API',
    ],
    [
      '/.well-known/oauth-protected-resource/mcp',
      'get_mcp_protected_resource_metadata',
      'RFC 9728 protected resource metadata of the MCP endpoint',
    ],
    [
      '/.well-known/oauth-authorization-server',
      'get_authorization_server_metadata',
      'RFC 8414 authorization server metadata',
    ],
    [
      '/.well-known/openid-configuration',
      'get_openid_configuration',
      'The authorization server metadata at the OpenID Connect discovery address',
    ],
  ] as const) {
    registry.registerPath({
      method: 'get',
      path,
      operationId,
      summary,
      tags: ['discovery'],
      security: [],
      responses: {
        200: { description: 'JSON document' },
        403: { description: 'The Host header is not one the gateway serves (GATEWAY_ALLOWED_HOSTS)' },
      },
    });
  }
}
