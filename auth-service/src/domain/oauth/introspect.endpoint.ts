import type { AuthStore } from '../../store/auth.store.js';
import { publicClientId } from '../../store/clients.store.js';
import type { ClientsService } from '../clients.service.js';
import type { SigningKeys } from '../signing-keys.js';
import type { TokenService } from '../tokens.service.js';
import {
  authenticateTokenRequest,
  looksLikeJwt,
  oauthError,
  oauthJson,
  type OAuthHttpRequest,
  type OAuthHttpResponse,
} from './http.js';

export interface IntrospectDeps {
  store: AuthStore;
  clients: ClientsService;
  tokens: TokenService;
  keys: SigningKeys;
  issuer: string;
}

const INACTIVE = { active: false };

/**
 * RFC 7662, for confidential clients about their own tokens: a token issued to another client is
 * reported inactive, so introspection cannot be used to probe other clients' tokens. A public client
 * proves nothing by naming itself (anyone can), so it may not introspect at all (RFC 7662 §2.1).
 */
export async function handleIntrospectRequest(
  d: IntrospectDeps,
  req: OAuthHttpRequest,
): Promise<OAuthHttpResponse> {
  const auth = await authenticateTokenRequest(req, d.clients);
  if ('error' in auth) return auth.error;
  if (auth.client.secret_hash === null) {
    return oauthError(
      401,
      'invalid_client',
      'Invalid client: introspection needs an authenticated confidential client',
      {
        'www-authenticate': 'Basic realm="picard"',
      },
    );
  }
  const { token } = auth;
  // Access tokens name the client as it calls itself; refresh tokens keep the internal UUID.
  const publicId = publicClientId(auth.client);

  if (looksLikeJwt(token)) {
    const p = await d.keys.verifyAccessToken(token);
    if (!p || p.client_id !== publicId || (await d.tokens.isInvalidated(p))) return oauthJson(200, INACTIVE);
    const user = await d.store.users.findById(p.sub);
    if (!user?.active) return oauthJson(200, INACTIVE);
    return oauthJson(200, {
      active: true,
      token_type: 'Bearer',
      scope: p.scope,
      client_id: p.client_id,
      username: user.username,
      sub: p.sub,
      aud: p.aud,
      iss: d.issuer,
      exp: p.exp,
      iat: p.iat,
      jti: p.jti,
    });
  }

  const row = await d.tokens.findRefreshToken(token);
  if (!row || row.client_id !== auth.client.client_id || row.revoked_at || row.expires_at <= new Date()) {
    return oauthJson(200, INACTIVE);
  }
  const user = await d.store.users.findById(row.user_id);
  if (!user?.active) return oauthJson(200, INACTIVE);
  return oauthJson(200, {
    active: true,
    token_type: 'refresh_token',
    scope: row.scope,
    client_id: publicId,
    username: user.username,
    sub: row.user_id,
    exp: Math.floor(row.expires_at.getTime() / 1000),
  });
}
