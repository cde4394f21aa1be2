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
import { PeriodicJob, type Logger } from '@picard/service-kit';
import type { AuthStore } from '../store/auth.store.js';
import type { SigningKeyRow } from '../store/keys.store.js';
import { isEnvelope, openPrivateJwk, sealPrivateJwk } from './key-encryption.js';
import { allowedResources } from './resource.js';

const ALG = 'ES256';
const DAY_MS = 86_400_000;

export interface AccessTokenClaims {
  userId: string;
  clientId: string;
  scope: string[];
  /** RFC 8707 resource; the issuer (the gateway's URL) when absent. */
  audience?: string;
  /** The refresh family (grant) the token belongs to, so revoking the grant can cut it off. */
  familyId?: string;
  /** An admin-made service principal acting as itself (sub = its client id). */
  servicePrincipal?: boolean;
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
  /** The refresh family (grant) of the token, when it has one. */
  fid?: string;
  /** iat in milliseconds: cut-offs compare against it, so a token issued just after one is not refused. */
  iat_ms?: number;
  /** Set only on tokens of an admin-made service principal acting as itself. */
  svc?: boolean;
}

export interface KeyRotationOptions {
  /** Days a key signs before the next one is made (AUTH_SIGNING_KEY_ROTATION_DAYS); 0: never automatically. */
  rotationDays?: number;
  /** How long a new key is published before it signs (AUTH_SIGNING_KEY_PUBLISH_AHEAD_SECONDS). */
  publishAheadSeconds?: number;
  /** AES-256-GCM key for private keys at rest (AUTH_KEY_ENCRYPTION_KEY). */
  encryptionKey?: Buffer;
  /** The clock of key lifetimes (tests move it); token iat/exp keep real time. */
  now?: () => Date;
  /** How often an instance re-reads the table and checks whether a rotation is due. */
  checkIntervalMs?: number;
}

export interface SigningKeysOptions extends KeyRotationOptions {
  issuer: string;
  accessTtlSeconds: number;
  logger: Logger;
}

export interface SigningKeyInfo {
  kid: string;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
}

const info = (r: SigningKeyRow): SigningKeyInfo => ({
  kid: r.kid,
  createdAt: r.created_at,
  activatesAt: r.activates_at,
  retiredAt: r.retired_at,
});

/**
 * The ES256 keys that sign access tokens, kept in signing_keys so every instance and every restart
 * agrees. A key's life is read from its timestamps: published from created_at, signing from
 * activates_at until retired_at, published until retired_at + the access-token lifetime (the last
 * token it signed expires then), then deleted. The signing key is the newest active one.
 *
 * Each instance holds a snapshot of the table (signing happens inside other transactions, where
 * reading the table would deadlock PGlite) and re-reads it far more often than a new key waits
 * before signing, so all instances switch keys at the same instant.
 */
export class SigningKeys {
  private rows: SigningKeyRow[] = [];
  private readonly privateKeys = new Map<string, Promise<CryptoKey>>();
  private readonly rotationDays: number;
  private readonly publishAheadMs: number;
  private readonly clock: () => Date;
  private job?: PeriodicJob<void>;

  private constructor(
    private readonly store: AuthStore,
    private readonly opts: SigningKeysOptions,
  ) {
    this.rotationDays = opts.rotationDays ?? 30;
    this.publishAheadMs = (opts.publishAheadSeconds ?? 300) * 1000;
    this.clock = opts.now ?? (() => new Date());
  }

  /** Loads the keys, creating the first one (or the next one, when a rotation is overdue). */
  static async load(store: AuthStore, opts: SigningKeysOptions): Promise<SigningKeys> {
    const keys = new SigningKeys(store, opts);
    await keys.encryptPlainKeys();
    await keys.check();
    if (!keys.signingRow(keys.now())) throw new Error('no signing key could be loaded');
    // A key that does not decrypt (wrong AUTH_KEY_ENCRYPTION_KEY) must stop the start, not the first login.
    await keys.privateKey(keys.signingRow(keys.now())!);
    return keys;
  }

  /** Keys stored before AUTH_KEY_ENCRYPTION_KEY was set are sealed with it now, not left readable. */
  private async encryptPlainKeys(): Promise<void> {
    const key = this.opts.encryptionKey;
    if (!key) return;
    const plain = (await this.store.keys.listAll()).filter((r) => !isEnvelope(r.private_jwk));
    for (const row of plain)
      await this.store.keys.updatePrivateJwk(row.kid, sealPrivateJwk(row.private_jwk, row.kid, key));
    if (plain.length > 0)
      this.opts.logger.info(
        { encrypted: plain.length },
        'signing keys stored in plain are now encrypted at rest',
      );
  }

  get ttlSeconds(): number {
    return this.opts.accessTtlSeconds;
  }

  private now(): number {
    return this.clock().getTime();
  }

  private isPublished(r: SigningKeyRow, now: number): boolean {
    return (
      r.created_at.getTime() <= now &&
      (r.retired_at === null || now < r.retired_at.getTime() + this.ttlSeconds * 1000)
    );
  }

  private static isActive(r: SigningKeyRow, now: number): boolean {
    return r.activates_at.getTime() <= now && (r.retired_at === null || now < r.retired_at.getTime());
  }

  /** The newest active key (rows are ordered by activates_at). */
  private signingRow(now: number, rows = this.rows): SigningKeyRow | undefined {
    return rows.filter((r) => SigningKeys.isActive(r, now)).at(-1);
  }

  private rotationDue(now: number, rows: SigningKeyRow[]): boolean {
    const signing = this.signingRow(now, rows);
    if (!signing) return true;
    if (rows.some((r) => r.retired_at === null && r.activates_at.getTime() > now)) return false;
    return this.rotationDays > 0 && now - signing.activates_at.getTime() >= this.rotationDays * DAY_MS;
  }

  /** Re-reads the table: what other instances created or retired becomes visible here. */
  async refresh(): Promise<void> {
    this.rows = await this.store.keys.listAll();
  }

  /** The periodic check: re-read, rotate when due, delete keys no token can need any more. */
  async check(): Promise<SigningKeyInfo | undefined> {
    await this.refresh();
    const created = this.rotationDue(this.now(), this.rows) ? await this.rotate(false) : undefined;
    const now = this.now();
    if (this.rows.some((r) => r.retired_at !== null && !this.isPublished(r, now))) {
      const n = await this.store.keys.deleteRetiredBefore(new Date(now - this.ttlSeconds * 1000));
      if (n > 0) this.opts.logger.info({ deleted: n }, 'retired signing keys deleted');
      await this.refresh();
    }
    return created;
  }

  /**
   * Starts the next key now (for an admin, or a test): published at once, signing after the
   * publish-ahead delay, when the current key retires. A key already waiting to sign is returned
   * instead of stacking another behind it.
   */
  async rotateNow(): Promise<SigningKeyInfo> {
    return (await this.rotate(true))!;
  }

  // One transaction under a table lock: two instances deciding at once make one key, not two.
  private async rotate(force: boolean): Promise<SigningKeyInfo | undefined> {
    const made = await this.store.transaction(async (tx) => {
      await tx.keys.lockForRotation();
      const rows = await tx.keys.listAll();
      const now = this.now();
      const signing = this.signingRow(now, rows);
      const pending = rows.filter((r) => r.retired_at === null && r.activates_at.getTime() > now).at(-1);
      if (signing && pending) return force ? { row: pending, created: false } : undefined;
      if (!force && !this.rotationDue(now, rows)) return undefined;
      // With nothing signing there is no token to protect: the first key signs at once.
      const row = await this.newKey(new Date(now), new Date(signing ? now + this.publishAheadMs : now));
      await tx.keys.insert(row);
      await tx.keys.retireOthers(row.kid, row.activates_at);
      return { row, created: true };
    });
    await this.refresh();
    if (made?.created) {
      this.opts.logger.info(
        { kid: made.row.kid, activatesAt: made.row.activates_at.toISOString() },
        'signing key created',
      );
    }
    return made && info(made.row);
  }

  private async newKey(createdAt: Date, activatesAt: Date): Promise<SigningKeyRow> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
    return {
      kid,
      alg: ALG,
      public_jwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' },
      private_jwk: sealPrivateJwk(privateJwk, kid, this.opts.encryptionKey),
      created_at: createdAt,
      activates_at: activatesAt,
      retired_at: null,
    };
  }

  private privateKey(row: SigningKeyRow): Promise<CryptoKey> {
    let key = this.privateKeys.get(row.kid);
    if (!key) {
      key = importJWK(
        openPrivateJwk(row.private_jwk, row.kid, this.opts.encryptionKey) as JWK,
        ALG,
      ) as Promise<CryptoKey>;
      this.privateKeys.set(row.kid, key);
      key.catch(() => this.privateKeys.delete(row.kid));
    }
    return key;
  }

  /** Runs check() on a timer (unref'd: it never keeps the process alive). */
  start(): void {
    this.job ??= new PeriodicJob({
      name: 'signing key check',
      logger: this.opts.logger,
      run: async () => {
        await this.check();
      },
      everyMs: this.opts.checkIntervalMs ?? Math.min(60_000, Math.max(5_000, this.publishAheadMs / 4)),
    });
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job?.stop();
    this.job = undefined;
  }

  /** The published keys (public parts only) as of the last read of the table. */
  jwks(): { keys: JWK[] } {
    const now = this.now();
    return {
      keys: this.rows
        .filter((r) => this.isPublished(r, now))
        .map((r) => ({ ...(r.public_jwk as JWK), kid: r.kid, alg: r.alg, use: 'sig' })),
    };
  }

  /** What GetJwks serves: read fresh, since a gateway asks only when it meets a kid it lacks. */
  async currentJwks(): Promise<{ keys: JWK[] }> {
    await this.refresh();
    return this.jwks();
  }

  async signAccessToken(claims: AccessTokenClaims): Promise<SignedAccessToken> {
    const row = this.signingRow(this.now());
    if (!row) throw new Error('no active signing key');
    const jti = randomUUID();
    const issuedMs = Date.now();
    const iat = Math.floor(issuedMs / 1000);
    const exp = iat + this.ttlSeconds;
    const token = await new SignJWT({
      client_id: claims.clientId,
      scope: claims.scope.join(' '),
      iat_ms: issuedMs,
      ...(claims.familyId ? { fid: claims.familyId } : {}),
      ...(claims.servicePrincipal ? { svc: true } : {}),
    })
      .setProtectedHeader({ alg: ALG, typ: 'at+jwt', kid: row.kid })
      .setIssuer(this.opts.issuer)
      .setAudience(claims.audience ?? this.opts.issuer)
      .setSubject(claims.userId)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(await this.privateKey(row));
    return { token, jti, expiresAt: new Date(exp * 1000) };
  }

  /** Verifies a token this service issued; undefined for anything else (forged, expired, foreign). */
  async verifyAccessToken(token: string): Promise<VerifiedAccessToken | undefined> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(this.jwks()), {
        issuer: this.opts.issuer,
        audience: [this.opts.issuer, ...allowedResources(this.opts.issuer)],
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
