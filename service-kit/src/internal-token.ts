import { jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import { unauthenticated } from './errors.js';
import type { Caller } from './identity.js';

/**
 * The identity a Picard process vouches for on an internal gRPC call: a JWT (HS256 under the
 * shared INTERNAL_TOKEN_KEY) minted per call, whose audience is the target gRPC service, so a
 * token captured on its way to one service is useless against another, and whose lifetime is a
 * minute, so a captured one soon is useless at all.
 *
 * Signing and verifying cost ~1.5 ms of the event loop per call (WebCrypto jobs), several times per
 * request: a token is reused for the same caller and audience while it has at least half its life
 * left, and a verified token is remembered until it expires. A captured token replays no longer
 * than before (its expiry is unchanged).
 *
 * Symmetric rather than EdDSA: every Picard service both verifies and (gateway, persona,
 * memory) signs, all under one operator; per-service key pairs would add a public-key
 * distribution step to each deployment while any compromised signer could still speak for
 * every user it serves. One shared secret is one more variable beside the ones already shared.
 */
export const INTERNAL_TOKEN_HEADER = 'x-picard-internal-token';
const TYPE = 'picard-internal+jwt';
const LIFETIME_SECONDS = 60;
/** Tolerated clock difference between two hosts of one deployment. */
const SKEW_SECONDS = 5;
/** A signed token is sent again while younger than this. */
const REUSE_SECONDS = LIFETIME_SECONDS / 2;
/** Distinct callers × audiences (and tokens) remembered at once. */
const CACHE_ENTRIES = 2000;
export const MIN_INTERNAL_KEY_LENGTH = 32;

export interface InternalTokenOptions {
  /** INTERNAL_TOKEN_KEY: the secret every service of one deployment shares. */
  key: string;
  /** Who signs (gateway, persona-service...): written as iss, for the logs. */
  issuer: string;
  /** Injectable clock (ms since the epoch). */
  now?: () => number;
}

export class InternalTokens {
  private readonly secret: Uint8Array;
  private readonly now: () => number;
  readonly issuer: string;
  private readonly signed = new LRUCache<string, { token: string; iat: number }>({ max: CACHE_ENTRIES });
  private readonly verified = new LRUCache<string, { caller: Caller | undefined; exp: number }>({
    max: CACHE_ENTRIES,
  });

  constructor(opts: InternalTokenOptions) {
    if (opts.key.length < MIN_INTERNAL_KEY_LENGTH) {
      throw new Error(`INTERNAL_TOKEN_KEY must be at least ${MIN_INTERNAL_KEY_LENGTH} characters`);
    }
    this.secret = new TextEncoder().encode(opts.key);
    this.issuer = opts.issuer;
    this.now = opts.now ?? Date.now;
  }

  /** A token for one call to `audience` (a gRPC service name); no caller = a service's own call. */
  async sign(caller: Caller | undefined, audience: string): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    const key = [audience, caller?.userId, caller?.scopes.join(' '), caller?.clientId].join('\n');
    const kept = this.signed.get(key);
    if (kept && iat - kept.iat < REUSE_SECONDS) return kept.token;
    const jwt = new SignJWT(
      caller ? { scope: caller.scopes.join(' '), client_id: caller.clientId } : { scope: '' },
    )
      .setProtectedHeader({ alg: 'HS256', typ: TYPE })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + LIFETIME_SECONDS);
    if (caller) jwt.setSubject(caller.userId);
    const token = await jwt.sign(this.secret);
    this.signed.set(key, { token, iat });
    return token;
  }

  /**
   * The caller a token vouches for (undefined for a service's own call). Anything wrong (bad
   * signature, another audience, expired, not ours) is UNAUTHENTICATED, with the reason.
   */
  async verify(token: string, audience: string): Promise<Caller | undefined> {
    const key = `${audience} ${token}`;
    const known = this.verified.get(key);
    if (known && this.now() < known.exp * 1000)
      return known.caller && { ...known.caller, scopes: [...known.caller.scopes] };
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        typ: TYPE,
        audience,
        requiredClaims: ['iss', 'iat', 'exp'],
        clockTolerance: SKEW_SECONDS,
        currentDate: new Date(this.now()),
        maxTokenAge: LIFETIME_SECONDS + SKEW_SECONDS,
      }));
    } catch (err) {
      throw unauthenticated(`internal token refused: ${(err as Error).message}`);
    }
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    const caller =
      typeof payload.sub !== 'string' || payload.sub === ''
        ? undefined
        : {
            userId: payload.sub,
            scopes: scope ? scope.split(' ') : [],
            clientId: typeof payload.client_id === 'string' ? payload.client_id : '',
          };
    this.verified.set(key, { caller, exp: payload.exp! });
    // A copy: callers may not change what the next call with this token is told.
    return caller && { ...caller, scopes: [...caller.scopes] };
  }
}
