import type { authPb } from '@picard/proto';
import type { AuthorizationCheckResult } from '../domain/authorization.service.js';
import { publicClientId, type ClientRow } from '../store/clients.store.js';
import type { UserRefRow, UserRow } from '../store/users.store.js';
import type { ConsentRow } from '../store/consents.store.js';
import type { CutoffRow } from '../store/tokens.store.js';

export const encodeUser = (u: UserRow): authPb.User => ({
  id: u.id,
  username: u.username,
  email: u.email ?? '',
  displayName: u.display_name,
  isAdmin: u.is_admin,
  active: u.active,
  createdAt: u.created_at,
});

export const encodeUserRef = (u: UserRefRow): authPb.UserRef => ({ userId: u.id, username: u.username });

export const encodeClient = (c: ClientRow): authPb.Client => ({
  clientId: c.client_id,
  clientName: c.client_name,
  redirectUris: c.redirect_uris,
  scopes: c.scopes,
  grantTypes: c.grant_types,
  tokenEndpointAuthMethod: c.token_endpoint_auth_method,
  firstParty: c.first_party,
  userTokenFlowEnabled: c.user_token_flow_enabled,
  createdAt: c.created_at,
  servicePrincipal: c.service_principal,
});

export const encodeCutoff = (c: CutoffRow): authPb.TokenCutoff => ({
  userId: c.user_id ?? '',
  clientId: c.client_id ?? '',
  familyId: c.family_id ?? '',
  cutoffAt: c.cutoff_at,
  expiresAt: c.expires_at,
});

export const encodeConsent = (c: ConsentRow & { client_name: string }): authPb.Consent => ({
  clientId: c.client_id,
  clientName: c.client_name,
  scopes: c.scope.split(' ').filter(Boolean),
  createdAt: c.created_at,
  updatedAt: c.updated_at,
});

export const encodeCheck = (c: AuthorizationCheckResult): authPb.AuthorizationCheck => ({
  // The authorization request names the client as it calls itself (a metadata URL for CIMD clients).
  client: c.client ? { ...encodeClient(c.client), clientId: publicClientId(c.client) } : undefined,
  scopes: c.scopes,
  error: c.error,
  errorDescription: c.errorDescription,
  redirectTrusted: c.redirectTrusted,
  errorRedirect: c.errorRedirect,
});
