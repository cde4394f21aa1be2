import { publicClientId, type ClientRow } from '../../store/clients.store.js';
import type { ClientsService } from '../clients.service.js';
import type { SigningKeys } from '../signing-keys.js';
import type { TokenService } from '../tokens.service.js';
import {
  authenticateTokenRequest,
  looksLikeJwt,
  oauthJson,
  type OAuthHttpRequest,
  type OAuthHttpResponse,
} from './http.js';

export interface RevokeDeps {
  clients: ClientsService;
  tokens: TokenService;
  keys: SigningKeys;
}

/**
 * RFC 7009. Unknown, expired or foreign tokens still get 200: the answer must not tell a client
 * whether a token exists. A token issued to another client is left alone.
 */
export async function handleRevokeRequest(d: RevokeDeps, req: OAuthHttpRequest): Promise<OAuthHttpResponse> {
  const auth = await authenticateTokenRequest(req, d.clients);
  if ('error' in auth) return auth.error;
  const { token } = auth;

  // The hint only orders the search (RFC 7009 §2.1); a JWT cannot be a refresh token of ours.
  const accessFirst = req.body.token_type_hint === 'access_token' || looksLikeJwt(token);
  const attempts = accessFirst ? [revokeAccess, revokeRefresh] : [revokeRefresh, revokeAccess];
  for (const attempt of attempts) if (await attempt(d, auth.client, token)) break;
  return oauthJson(200, {});
}

async function revokeRefresh(d: RevokeDeps, client: ClientRow, token: string): Promise<boolean> {
  const row = await d.tokens.findRefreshToken(token);
  if (!row) return false;
  // Revoking a refresh token ends the grant: its whole rotation chain goes.
  if (row.client_id === client.client_id) await d.tokens.revokeGrant(row);
  return true;
}

async function revokeAccess(d: RevokeDeps, client: ClientRow, token: string): Promise<boolean> {
  if (!looksLikeJwt(token)) return false;
  const payload = await d.keys.verifyAccessToken(token);
  if (!payload) return false;
  if (payload.client_id === publicClientId(client)) await d.tokens.revokeAccessToken(payload);
  return true;
}
