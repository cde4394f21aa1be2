import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Logger } from '@picard/service-kit';
import type { AuthStore } from '../store/auth.store.js';
import { allowedResources } from './resource.js';

const ALG = 'ES256';

export interface AccessTokenClaims {
  userId: string;
  clientId: string;
  scope: string[];
  /** RFC 8707 resource; the issuer (the gateway's URL) when absent. */
  audience?: string;
}

export interface SignedAccessToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

export interface VerifiedAccessToken extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  client_id: string;
  scope: string;
}

/**
 * The ES256 key that signs access tokens. Created on first start and kept in signing_keys, so
 * tokens stay valid across restarts and every instance signs with the same (oldest active) key.
 */
export class SigningKeys {
  private constructor(
    private readonly kid: string,
    private readonly privateKey: CryptoKey,
    private readonly publicJwks: JWK[],
    private readonly issuer: string,
    private readonly accessTtlSeconds: number,
  ) {}

  static async load(store: AuthStore, opts: { issuer: string; accessTtlSeconds: number; logger: Logger }) {
    let keys = await store.keys.listActive();
    if (keys.length === 0) {
      const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
      const kid = randomUUID();
      await store.keys.insert({
        kid,
        alg: ALG,
        public_jwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' },
        private_jwk: { ...(await exportJWK(privateKey)), kid, alg: ALG },
      });
      opts.logger.info({ kid }, 'signing key created');
      // Another instance may have raced us; whoever is oldest wins everywhere.
      keys = await store.keys.listActive();
    }
    const current = keys[0]!;
    const privateKey = (await importJWK(current.private_jwk as JWK, ALG)) as CryptoKey;
    const publicJwks = keys.map((k) => ({ ...(k.public_jwk as JWK), kid: k.kid, alg: k.alg, use: 'sig' }));
    return new SigningKeys(current.kid, privateKey, publicJwks, opts.issuer, opts.accessTtlSeconds);
  }

  get ttlSeconds(): number {
    return this.accessTtlSeconds;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.publicJwks };
  }

  async signAccessToken(claims: AccessTokenClaims): Promise<SignedAccessToken> {
    const jti = randomUUID();
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + this.accessTtlSeconds;
    const token = await new SignJWT({ client_id: claims.clientId, scope: claims.scope.join(' ') })
      .setProtectedHeader({ alg: ALG, typ: 'at+jwt', kid: this.kid })
      .setIssuer(this.issuer)
      .setAudience(claims.audience ?? this.issuer)
      .setSubject(claims.userId)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.privateKey);
    return { token, jti, expiresAt: new Date(exp * 1000) };
  }

  /** Verifies a token this service issued; undefined for anything else (forged, expired, foreign). */
  async verifyAccessToken(token: string): Promise<VerifiedAccessToken | undefined> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: this.publicJwks }), {
        issuer: this.issuer,
        audience: [this.issuer, ...allowedResources(this.issuer)],
        algorithms: [ALG],
        typ: 'at+jwt',
        requiredClaims: ['sub', 'jti', 'exp'],
      });
      return payload as VerifiedAccessToken;
    } catch {
      return undefined;
    }
  }
}
