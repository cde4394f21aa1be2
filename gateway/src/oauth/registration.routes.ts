import { Router } from 'express';
import { callUnary, fromServiceError } from '@picard/service-kit';
import type { ServiceClients } from '../clients/service-clients.js';

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * RFC 7591 dynamic client registration, as 2025-era MCP hosts use it. Open to anyone; the
 * client is never first-party (no direct-connect tokens) and never gets memories:admin.
 */
export function registrationRouter(clients: ServiceClients): Router {
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
      const registered = await callUnary(clients.auth.registerDynamicClient.bind(clients.auth), {
        clientName: typeof body.client_name === 'string' ? body.client_name : '',
        redirectUris: strings(body.redirect_uris),
        scopes: typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : [],
        grantTypes: strings(body.grant_types),
        tokenEndpointAuthMethod:
          typeof body.token_endpoint_auth_method === 'string' ? body.token_endpoint_auth_method : '',
        firstParty: false,
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
      const e = fromServiceError(err);
      const status = e.code === 'resource_exhausted' ? 429 : e.httpStatus >= 500 ? e.httpStatus : 400;
      const error = e.field?.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata';
      res.status(status).json({ error, error_description: e.field ? `${e.field}: ${e.message}` : e.message });
    }
  });
  return router;
}
