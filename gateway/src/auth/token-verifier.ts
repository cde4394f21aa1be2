import {
  createLocalJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { callUnary, DomainError, unauthenticated } from '@picard/service-kit';
import type { ServiceClients } from '../clients/service-clients.js';
import type { DenyList } from './deny-list.js';

export interface VerifiedToken {
  token: string;
  userId: string;
  clientId: string;
  scopes: string[];
  jti: string;
  expiresAt: number;
}

const JWKS_REFRESH_MIN_MS = 30_000;

/**
 * Checks an access token entirely locally: signature against auth-service's JWKS (fetched over
 * gRPC and refreshed when an unknown key id shows up), issuer, audience, expiry, then the
 * deny-list. No network call per request.
 */
export class TokenVerifier {
  private jwks?: ReturnType<typeof createLocalJWKSet>;
  private lastFetch = 0;

  constructor(
    private readonly clients: ServiceClients,
    private readonly denyList: DenyList,
    private readonly issuer: string,
    private readonly audiences: string[],
  ) {}

  private async loadKeys(): Promise<void> {
    const { keysJson } = await callUnary(this.clients.auth.getJwks.bind(this.clients.auth), {});
    this.jwks = createLocalJWKSet(JSON.parse(keysJson) as JSONWebKeySet);
    this.lastFetch = Date.now();
  }

  async verify(token: string): Promise<VerifiedToken> {
    if (!this.jwks) await this.loadKeys();
    let payload: JWTPayload;
    try {
      payload = await this.check(token);
    } catch (err) {
      if (
        !(err instanceof joseErrors.JWKSNoMatchingKey) ||
        Date.now() - this.lastFetch < JWKS_REFRESH_MIN_MS
      ) {
        throw asUnauthenticated(err);
      }
      await this.loadKeys();
      payload = await this.check(token).catch((e) => Promise.reject(asUnauthenticated(e)));
    }
    const { sub, jti, exp } = payload;
    const scope = payload.scope;
    const clientId = payload.client_id;
    if (!sub || !jti || !exp || typeof scope !== 'string' || typeof clientId !== 'string') {
      throw unauthenticated('the access token lacks required claims');
    }
    const issuedAtMs = (payload.iat ?? 0) * 1000;
    if (this.denyList.refuses({ jti, userId: sub, issuedAtMs }))
      throw unauthenticated('the access token has been revoked');
    return { token, userId: sub, clientId, scopes: scope.split(' ').filter(Boolean), jti, expiresAt: exp };
  }

  private async check(token: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.jwks!, {
      issuer: this.issuer,
      audience: this.audiences,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      requiredClaims: ['exp', 'sub', 'jti'],
    });
    return payload;
  }
}

function asUnauthenticated(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  if (err instanceof joseErrors.JWTExpired) return unauthenticated('the access token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return unauthenticated(`the access token's "${err.claim}" claim is not accepted here`);
  }
  return unauthenticated('the access token is invalid');
}
