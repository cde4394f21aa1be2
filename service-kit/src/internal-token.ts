import { jwtVerify, SignJWT } from 'jose';
import { unauthenticated } from './errors.js';
import type { Caller } from './identity.js';

/**
 * The identity a Picard process vouches for on an internal gRPC call: a JWT (HS256 under the
 * shared INTERNAL_TOKEN_KEY) minted per call, whose audience is the target gRPC service, so a
 * token captured on its way to one service is useless against another, and whose lifetime is a
 * minute, so a captured one soon is useless at all.
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

  constructor(opts: InternalTokenOptions) {
    if (opts.key.length < MIN_INTERNAL_KEY_LENGTH) {
      throw new Error(`INTERNAL_TOKEN_KEY must be at least ${MIN_INTERNAL_KEY_LENGTH} characters`);
    }
    this.secret = new TextEncoder().encode(opts.key);
    this.issuer = opts.issuer;
    this.now = opts.now ?? Date.now;
  }

  /** A token for one call to `audience` (a gRPC service name); no caller = a service's own call. */
  sign(caller: Caller | undefined, audience: string): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    const jwt = new SignJWT(
      caller ? { scope: caller.scopes.join(' '), client_id: caller.clientId } : { scope: '' },
    )
      .setProtectedHeader({ alg: 'HS256', typ: TYPE })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + LIFETIME_SECONDS);
    if (caller) jwt.setSubject(caller.userId);
    return jwt.sign(this.secret);
  }

  /**
   * The caller a token vouches for (undefined for a service's own call). Anything wrong (bad
   * signature, another audience, expired, not ours) is UNAUTHENTICATED, with the reason.
   */
  async verify(token: string, audience: string): Promise<Caller | undefined> {
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
    if (typeof payload.sub !== 'string' || payload.sub === '') return undefined;
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    return {
      userId: payload.sub,
      scopes: scope ? scope.split(' ') : [],
      clientId: typeof payload.client_id === 'string' ? payload.client_id : '',
    };
  }
}
