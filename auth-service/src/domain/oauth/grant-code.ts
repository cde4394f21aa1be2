import OAuth2Server from '@node-oauth/oauth2-server';
import { newId } from '@picard/service-kit';
import { sha256Hex } from '../secrets.js';
import type { TokenEndpointDeps, TokenRequestState } from './token-state.js';

type CodePart = Pick<OAuth2Server.AuthorizationCodeModel, 'getAuthorizationCode' | 'revokeAuthorizationCode'>;

/**
 * authorization_code with PKCE (the library checks the verifier and expiry). Codes are single-use;
 * a replay revokes what the first redemption issued.
 */
export function codeGrant(d: TokenEndpointDeps, st: TokenRequestState): CodePart {
  return {
    async getAuthorizationCode(code) {
      const row = await d.store.codes.find(sha256Hex(code));
      if (!row) return false;
      if (row.used_at) {
        await d.tokens.revokeIssuedFromCode(row);
        return false;
      }
      const user = await d.store.users.findById(row.user_id);
      if (!user?.active) return false;
      st.code = row;
      st.audience = row.resource ?? undefined;
      return {
        authorizationCode: code,
        expiresAt: row.expires_at,
        redirectUri: row.redirect_uri,
        scope: row.scope.split(' ').filter(Boolean),
        client: { id: row.client_id, grants: [] },
        user: { id: row.user_id },
        codeChallenge: row.code_challenge,
        codeChallengeMethod: row.code_challenge_method,
      };
    },

    // Runs before the PKCE and redirect checks, so a failed attempt spends the code too.
    async revokeAuthorizationCode() {
      const row = st.code;
      if (!row) return false;
      st.familyId = newId();
      if (!(await d.store.codes.claim(row.code_hash, st.familyId))) {
        await d.tokens.revokeIssuedFromCode(row);
        return false;
      }
      // RFC 6749 §4.1.3 calls a mismatch invalid_grant; the library would say invalid_request.
      if (st.body.redirect_uri !== row.redirect_uri) {
        throw new OAuth2Server.InvalidGrantError(
          'Invalid grant: `redirect_uri` does not match the authorization request',
        );
      }
      return true;
    },
  };
}

export async function saveCodeTokens(
  d: TokenEndpointDeps,
  st: TokenRequestState,
  token: OAuth2Server.Token,
): Promise<boolean> {
  const { code, familyId, signed } = st;
  if (!code || !familyId || !signed || !token.refreshToken || !token.refreshTokenExpiresAt) return false;
  await d.store.transaction(async (tx) => {
    await d.tokens.saveRefreshToken(tx, {
      id: newId(),
      token: token.refreshToken!,
      familyId,
      userId: code.user_id,
      clientId: code.client_id,
      scope: (token.scope as string[] | undefined) ?? [],
      expiresAt: token.refreshTokenExpiresAt!,
      resource: code.resource,
    });
    await tx.codes.recordAccessToken(code.code_hash, {
      jti: signed.jti,
      expires_at: signed.expiresAt.toISOString(),
    });
  });
  // A replay that raced this redemption found nothing to revoke yet: finish its work now.
  const after = await d.store.codes.find(code.code_hash);
  if (after?.replayed_at) {
    await d.tokens.revokeIssuedFromCode(after);
    return false;
  }
  return true;
}
