import type { Knex, Logger } from '@picard/service-kit';
import type { ClientMetadataFetcher } from '../client-metadata/index.js';
import type { AuthStore } from '../store/auth.store.js';
import { AuthorizationService } from './authorization.service.js';
import { ClientsService, type ClientsSettings } from './clients.service.js';
import { LoginThrottle, type LoginLimits } from './login-throttle.js';
import { RateLimitService } from './rate-limit.service.js';
import { handleIntrospectRequest } from './oauth/introspect.endpoint.js';
import { handleRevokeRequest } from './oauth/revoke.endpoint.js';
import { handleTokenRequest } from './oauth/token.endpoint.js';
import type { OAuthHttpRequest, OAuthHttpResponse } from './oauth/http.js';
import { SigningKeys, type KeyRotationOptions } from './signing-keys.js';
import { TokenService } from './tokens.service.js';
import { UsersService } from './users.service.js';

export interface AuthDomainSettings {
  issuer: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  codeTtlSeconds: number;
  dynamicClientsPerHour: number;
  dynamicClientsPerSourcePerHour?: number;
  metadataClients?: ClientsSettings['metadataClients'];
  login: LoginLimits;
  /** Where the login throttle and the gateway's rate limits keep their counters (this service's database). */
  rateLimitDb: Knex;
  /** Signing-key rotation (defaults: every 30 days, published 300 s ahead). */
  keyRotation?: KeyRotationOptions;
  /** Client ID Metadata Documents; absent when AUTH_CIMD_ENABLED is false. */
  clientMetadata?: ClientMetadataFetcher;
}

/** Every rule of auth-service, wired by hand over one store. */
export interface AuthDomain {
  users: UsersService;
  clients: ClientsService;
  tokens: TokenService;
  keys: SigningKeys;
  authorization: AuthorizationService;
  rateLimits: RateLimitService;
  token(req: OAuthHttpRequest): Promise<OAuthHttpResponse>;
  revoke(req: OAuthHttpRequest): Promise<OAuthHttpResponse>;
  introspect(req: OAuthHttpRequest): Promise<OAuthHttpResponse>;
}

export async function createAuthDomain(
  store: AuthStore,
  s: AuthDomainSettings,
  logger: Logger,
): Promise<AuthDomain> {
  const keys = await SigningKeys.load(store, {
    ...s.keyRotation,
    issuer: s.issuer,
    accessTtlSeconds: s.accessTtlSeconds,
    logger,
  });
  const clients = new ClientsService(store, {
    dynamicClientsPerHour: s.dynamicClientsPerHour,
    dynamicClientsPerSourcePerHour: s.dynamicClientsPerSourcePerHour,
    metadataClients: s.metadataClients,
    metadata: s.clientMetadata,
    accessTtlSeconds: s.accessTtlSeconds,
  });
  const tokens = new TokenService(store, keys, clients, s.refreshTtlSeconds, logger);
  const users = new UsersService(
    store,
    logger,
    new LoginThrottle(s.rateLimitDb, s.login),
    s.accessTtlSeconds,
  );
  const authorization = new AuthorizationService(store, clients, {
    issuer: s.issuer,
    codeTtlSeconds: s.codeTtlSeconds,
  });
  const deps = { store, clients, tokens, keys, logger, ...s };
  return {
    users,
    clients,
    tokens,
    keys,
    authorization,
    rateLimits: new RateLimitService(s.rateLimitDb),
    token: (req) => handleTokenRequest(deps, req),
    revoke: (req) => handleRevokeRequest(deps, req),
    introspect: (req) => handleIntrospectRequest(deps, req),
  };
}
