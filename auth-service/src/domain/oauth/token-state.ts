import type { Logger } from '@picard/service-kit';
import type { AuthStore } from '../../store/auth.store.js';
import type { AuthorizationCodeRow } from '../../store/codes.store.js';
import type { RefreshTokenRow } from '../../store/tokens.store.js';
import type { ClientsService } from '../clients.service.js';
import type { SignedAccessToken, SigningKeys } from '../signing-keys.js';
import type { TokenService } from '../tokens.service.js';

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
 * What one token request carries between the library's model callbacks (they get no request):
 * the form, the presented refresh token or code, and what was signed.
 */
export interface TokenRequestState {
  body: Record<string, string>;
  /** refresh_token grant: the presented row, and the id its successor will get. */
  presented?: RefreshTokenRow;
  successorId?: string;
  /** authorization_code grant: the redeemed code, and the family its tokens start. */
  code?: AuthorizationCodeRow;
  familyId?: string;
  /** The access token's audience (RFC 8707 resource); the issuer when undefined. */
  audience?: string;
  signed?: SignedAccessToken;
}
