import OAuth2Server from '@node-oauth/oauth2-server';
import { newId, type Logger } from '@picard/service-kit';
import type { AuthStore } from '../../store/auth.store.js';
import type { RefreshTokenRow } from '../../store/tokens.store.js';
import type { ClientsService } from '../clients.service.js';
import type { SigningKeys } from '../signing-keys.js';
import type { TokenService } from '../tokens.service.js';
import { lowerCaseKeys, oauthError, oauthJson, type OAuthHttpRequest, type OAuthHttpResponse } from './http.js';

export interface TokenEndpointDeps {
  store: AuthStore;
  clients: ClientsService;
  tokens: TokenService;
  keys: SigningKeys;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  logger: Logger;
}

/**
 * The library's model, made per request: rotation needs to carry the presented token's row
 * (family, successor id) from getRefreshToken through revokeToken to saveToken.
 */
function requestModel(d: TokenEndpointDeps): OAuth2Server.RefreshTokenModel {
  let presented: RefreshTokenRow | undefined;
  let successorId: string | undefined;
  return {
    async getClient(clientId, clientSecret) {
      const client = await d.clients.authenticate(clientId, clientSecret ?? '');
      return client ? { id: client.client_id, grants: client.grant_types } : false;
    },

    async getRefreshToken(refreshToken) {
      const row = await d.tokens.findRefreshToken(refreshToken);
      if (!row) return false;
      if (row.revoked_at) {
        // A token that was rotated away is being replayed: whoever holds the family is suspect.
        if (row.replaced_by) await d.tokens.revokeFamily(row, 'reuse of a rotated refresh token');
        return false;
      }
      const user = await d.store.users.findById(row.user_id);
      if (!user?.active) return false;
      presented = row;
      return {
        refreshToken,
        refreshTokenExpiresAt: row.expires_at,
        scope: row.scope.split(' ').filter(Boolean),
        client: { id: row.client_id, grants: [] },
        user: { id: row.user_id },
      };
    },

    async revokeToken() {
      if (!presented) return false;
      successorId = newId();
      const won = await d.tokens.claimForRotation(presented, successorId);
      // Losing the race means the same token was used twice at once: treat it as reuse.
      if (!won) await d.tokens.revokeFamily(presented, 'concurrent use of a refresh token');
      return won;
    },

    async generateAccessToken(client, user, scope) {
      const signed = await d.keys.signAccessToken({ userId: String(user.id), clientId: client.id, scope: scope ?? [] });
      return signed.token;
    },

    async saveToken(token, client, user) {
      if (!presented || !successorId || !token.refreshToken || !token.refreshTokenExpiresAt) return false;
      await d.tokens.saveRefreshToken(d.store, {
        id: successorId,
        token: token.refreshToken,
        familyId: presented.family_id,
        userId: String(user.id),
        clientId: client.id,
        scope: token.scope ?? [],
        expiresAt: token.refreshTokenExpiresAt,
      });
      return { ...token, client, user };
    },

    // The token endpoint never authenticates bearer tokens; the gateway verifies them itself.
    async getAccessToken() {
      return false;
    },
  };
}

/** POST /token. Only the refresh_token grant exists so far; authorization_code comes with issue #3. */
export async function handleTokenRequest(d: TokenEndpointDeps, req: OAuthHttpRequest): Promise<OAuthHttpResponse> {
  const body = req.body ?? {};
  if (body.grant_type === 'authorization_code') {
    return oauthError(400, 'unsupported_grant_type', 'authorization_code is not implemented yet (issue #3)');
  }
  const headers = lowerCaseKeys(req.headers);
  // The gateway already parsed the body; tell the library there was one, in the form it expects.
  headers['content-type'] ??= 'application/x-www-form-urlencoded';
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
    headers['content-length'] = String(new URLSearchParams(body).toString().length);
  }
  const request = new OAuth2Server.Request({ method: req.method || 'POST', headers, query: req.query ?? {}, body });
  const response = new OAuth2Server.Response({ headers: {} });
  const server = new OAuth2Server({
    model: requestModel(d),
    accessTokenLifetime: d.accessTtlSeconds,
    refreshTokenLifetime: d.refreshTtlSeconds,
    alwaysIssueNewRefreshToken: true,
  });
  try {
    await server.token(request, response);
  } catch (err) {
    if (!(err instanceof OAuth2Server.OAuthError)) {
      d.logger.error({ err }, 'token endpoint failed');
      return oauthError(500, 'server_error', 'internal error');
    }
    const e = err as OAuth2Server.OAuthError & { inner?: unknown };
    if (e.name === 'server_error') d.logger.error({ err: e.inner ?? err }, 'token endpoint failed');
    // Built from the error itself: the library throws its method and content-type checks before
    // it fills in the response, which would otherwise go out as 200 {}.
    const headers = (response.headers ?? {}) as Record<string, string>;
    return oauthError(e.code, e.name, e.message, headers);
  }
  return oauthJson(response.status ?? 200, response.body ?? {}, (response.headers ?? {}) as Record<string, string>);
}
