import type OAuth2Server from '@node-oauth/oauth2-server';
import { newId } from '@picard/service-kit';
import type { TokenEndpointDeps, TokenRequestState } from './token-state.js';

type RefreshPart = Pick<OAuth2Server.RefreshTokenModel, 'getRefreshToken' | 'revokeToken'>;

/** refresh_token: rotation on every use; replaying a rotated token revokes its whole family. */
export function refreshGrant(d: TokenEndpointDeps, st: TokenRequestState): RefreshPart {
  return {
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
      st.presented = row;
      st.audience = row.resource ?? undefined;
      return {
        refreshToken,
        refreshTokenExpiresAt: row.expires_at,
        scope: row.scope.split(' ').filter(Boolean),
        client: { id: row.client_id, grants: [] },
        user: { id: row.user_id },
      };
    },

    async revokeToken() {
      if (!st.presented) return false;
      st.successorId = newId();
      const won = await d.tokens.claimForRotation(st.presented, st.successorId);
      // Losing the race means the same token was used twice at once: treat it as reuse.
      if (!won) await d.tokens.revokeFamily(st.presented, 'concurrent use of a refresh token');
      return won;
    },
  };
}

export async function saveRotatedTokens(
  d: TokenEndpointDeps,
  st: TokenRequestState,
  token: OAuth2Server.Token,
): Promise<boolean> {
  const { presented, successorId } = st;
  if (!presented || !successorId || !token.refreshToken || !token.refreshTokenExpiresAt) return false;
  await d.tokens.saveRefreshToken(d.store, {
    id: successorId,
    token: token.refreshToken,
    familyId: presented.family_id,
    userId: presented.user_id,
    clientId: presented.client_id,
    scope: (token.scope as string[] | undefined) ?? [],
    expiresAt: token.refreshTokenExpiresAt,
    resource: presented.resource,
  });
  return true;
}
