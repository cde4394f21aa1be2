import type { authPb } from '@picard/proto';
import type { ClientRow } from '../../store/clients.store.js';
import type { ClientsService } from '../clients.service.js';

/** An OAuth endpoint request as the gateway relays it, and the HTTP answer it sends back. */
export type OAuthHttpRequest = authPb.OAuthRequest;
export type OAuthHttpResponse = authPb.OAuthResponse;

export const lowerCaseKeys = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** Token-endpoint answers must never be cached (RFC 6749 §5.1). */
export function oauthJson(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): OAuthHttpResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...headers,
    },
    bodyJson: JSON.stringify(body),
  };
}

export const oauthError = (
  status: number,
  error: string,
  description: string,
  headers?: Record<string, string>,
) => oauthJson(status, { error, error_description: description }, headers);

/** RFC 6749 §5.2: a client that tried HTTP Basic and failed gets 401 with a Basic challenge. */
export const invalidBasicClient = (description = 'Invalid client: client is invalid') =>
  oauthError(401, 'invalid_client', description, { 'www-authenticate': 'Basic realm="picard"' });

interface PresentedCredentials {
  clientId: string;
  clientSecret: string;
  viaBasic: boolean;
}

/**
 * RFC 6749 §2.3.1: HTTP Basic (form-url-encoded parts) or client_id[/client_secret] in the body.
 * The one reader of client credentials for /token, /revoke and /introspect. Each Basic part is
 * form-decoded ('+' is a space, %XX escapes); a part that is not valid encoding is taken as sent,
 * and a plain part (no '%' or '+') decodes to itself, so unencoded pairs keep working.
 */
export function presentedCredentials(req: OAuthHttpRequest): PresentedCredentials | undefined {
  const header = lowerCaseKeys(req.headers).authorization;
  if (header && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { clientId: '', clientSecret: '', viaBasic: true };
    const part = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    return {
      clientId: part(decoded.slice(0, colon)),
      clientSecret: part(decoded.slice(colon + 1)),
      viaBasic: true,
    };
  }
  const { client_id: clientId, client_secret: clientSecret } = req.body ?? {};
  // A public client names itself with client_id alone (RFC 7009 §2.1, RFC 7662 allows the same).
  if (clientId) return { clientId, clientSecret: clientSecret ?? '', viaBasic: false };
  return undefined;
}

/** The authenticated client, or the RFC 6749 §5.2 error to send back. */
export async function authenticateClient(
  req: OAuthHttpRequest,
  clients: ClientsService,
): Promise<{ client: ClientRow } | { error: OAuthHttpResponse }> {
  const creds = presentedCredentials(req);
  if (!creds) {
    return {
      error: oauthError(401, 'invalid_client', 'Invalid client: cannot retrieve client credentials', {
        'www-authenticate': 'Basic realm="picard"',
      }),
    };
  }
  const client = creds.clientSecret
    ? await clients.authenticate(creds.clientId, creds.clientSecret)
    : await clients.findPublic(creds.clientId);
  if (client) return { client };
  return creds.viaBasic
    ? { error: invalidBasicClient() }
    : { error: oauthError(400, 'invalid_client', 'Invalid client: client is invalid') };
}

export const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

/** The common start of RFC 7009 and RFC 7662 requests: POST, an authenticated client, a `token`. */
export async function authenticateTokenRequest(
  req: OAuthHttpRequest,
  clients: ClientsService,
): Promise<{ client: ClientRow; token: string } | { error: OAuthHttpResponse }> {
  if ((req.method || 'POST').toUpperCase() !== 'POST') {
    return {
      error: oauthError(405, 'invalid_request', 'Invalid request: method must be POST', { allow: 'POST' }),
    };
  }
  const auth = await authenticateClient(req, clients);
  if ('error' in auth) return auth;
  const token = req.body?.token;
  if (!token) return { error: oauthError(400, 'invalid_request', 'Missing parameter: `token`') };
  return { client: auth.client, token };
}
