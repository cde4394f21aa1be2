import type OAuth2Server from '@node-oauth/oauth2-server';
import { publicClientId } from '../../store/clients.store.js';
import { ADMIN_SCOPE } from '../validation.js';
import { codeGrant, saveCodeTokens } from './grant-code.js';
import { refreshGrant, saveRotatedTokens } from './grant-refresh.js';
import type { TokenEndpointDeps, TokenRequestState } from './token-state.js';

export type TokenModel = OAuth2Server.AuthorizationCodeModel &
  OAuth2Server.RefreshTokenModel &
  OAuth2Server.ClientCredentialsModel;

/** The library's model, made per request (see TokenRequestState). */
export function requestModel(d: TokenEndpointDeps, body: Record<string, string>): TokenModel {
  const st: TokenRequestState = { body };
  const grant = body.grant_type;
  return {
    ...codeGrant(d, st),
    ...refreshGrant(d, st),

    /**
     * Public clients (token_endpoint_auth_method "none") name themselves only; a confidential
     * client must present its secret, whatever the grant.
     */
    async getClient(clientId, clientSecret) {
      const client = clientSecret
        ? await d.clients.authenticate(clientId, clientSecret)
        : await d.clients.findPublic(clientId);
      if (!client) return false;
      // id is the internal UUID, which codes and refresh tokens store, so the library's "issued to this
      // client" checks compare like with like; publicId is what the client calls itself (its metadata URL).
      return {
        id: client.client_id,
        publicId: publicClientId(client),
        // client_credentials only for a service principal the admin made: for anyone else it would mint
        // a principal that is not a user (older dynamic registrations may still list the grant).
        grants: client.grant_types.filter((g) => g !== 'client_credentials' || client.service_principal),
        servicePrincipal: client.service_principal,
        confidential: client.secret_hash !== null,
        scopes: client.scopes,
      };
    },

    // client_credentials: the client acts as itself (sub = its id, no refresh token).
    async getUserFromClient(client) {
      return client.confidential ? { id: client.id, isClient: true } : false;
    },

    async validateScope(_user, client, scope) {
      if (grant !== 'client_credentials') return scope ?? [];
      const allowed = (client.scopes as string[]).filter((s) => s !== ADMIN_SCOPE);
      const wanted = scope && scope.length > 0 ? scope : allowed;
      if (wanted.length === 0 || !wanted.every((s) => allowed.includes(s))) return false;
      return [...new Set(wanted)];
    },

    async generateAccessToken(client, user, scope) {
      st.signed = await d.keys.signAccessToken({
        userId: String(user.id),
        clientId: String(client.publicId ?? client.id),
        scope: scope ?? [],
        audience: st.audience,
        // The grant's refresh family, so that revoking the grant cuts its access tokens off too.
        familyId: st.familyId ?? st.presented?.family_id,
        servicePrincipal: grant === 'client_credentials' && client.servicePrincipal === true,
      });
      return st.signed.token;
    },

    async saveToken(token, client, user) {
      const saved =
        grant === 'authorization_code'
          ? await saveCodeTokens(d, st, token)
          : grant === 'refresh_token'
            ? await saveRotatedTokens(d, st, token)
            : true;
      return saved ? { ...token, client, user } : false;
    },

    // Codes are made by the Authorize call, never by the library's authorize handler.
    async saveAuthorizationCode() {
      return false;
    },

    // The token endpoint never authenticates bearer tokens; the gateway verifies them itself.
    async getAccessToken() {
      return false;
    },
  };
}
