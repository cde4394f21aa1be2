import {
  createLocalJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { LRUCache } from 'lru-cache';
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
/** Distinct live tokens whose signature check is remembered (a few hundred bytes each). */
const VERIFIED_TOKENS = 5000;

/**
 * Checks an access token entirely locally: signature against auth-service's JWKS (fetched over
 * gRPC and refreshed when an unknown key id shows up), issuer, audience, expiry, then the
 * deny-list. No network call per request. A token's signature and claims are checked once and
 * remembered until it expires (an ES256 verification is ~0.4 ms of the event loop per request);
 * the deny-list is asked on every request.
 */
export class TokenVerifier {
  private jwks?: ReturnType<typeof createLocalJWKSet>;
  private lastFetch = 0;
  private readonly verified = new LRUCache<string, JWTPayload>({ max: VERIFIED_TOKENS });

  constructor(
    private readonly clients: ServiceClients,
    private readonly denyList: DenyList,
    private readonly issuer: string,
    private readonly audiences: string[],
    /** What "now" is for expiry (tests move it instead of waiting for a token to expire). */
    private readonly now: () => number = Date.now,
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
    // iat_ms is the exact issue time; a token without it may have been issued at any moment of its second.
    const issuedAtMs =
      typeof payload.iat_ms === 'number' ? payload.iat_ms : ((payload.iat ?? 0) + 1) * 1000 - 1;
    const familyId = typeof payload.fid === 'string' ? payload.fid : undefined;
    if (this.denyList.refuses({ jti, userId: sub, clientId, familyId, issuedAtMs }))
      throw unauthenticated('the access token has been revoked');
    // A client acting as itself (client_credentials: sub = its own id) is not a user; only a client the
    // admin made a service principal may touch user data that way.
    if (sub === clientId && payload.svc !== true) {
      throw unauthenticated('tokens of a client acting as itself are accepted only for service principals');
    }
    return { token, userId: sub, clientId, scopes: scope.split(' ').filter(Boolean), jti, expiresAt: exp };
  }

  private async check(token: string): Promise<JWTPayload> {
    const known = this.verified.get(token);
    if (known && this.now() < known.exp! * 1000) return known;
    const { payload } = await jwtVerify(token, this.jwks!, {
      currentDate: new Date(this.now()),
      issuer: this.issuer,
      audience: this.audiences,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      requiredClaims: ['exp', 'sub', 'jti'],
    });
    this.verified.set(token, payload);
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
