import {
  assertUuid,
  DomainError,
  forbidden,
  invalid,
  newId,
  unauthenticated,
  type Logger,
} from '@picard/service-kit';
import type { authPb } from '@picard/proto';
import type { AuthStore } from '../store/auth.store.js';
import type { AuthorizationCodeRow } from '../store/codes.store.js';
import type { RefreshTokenRow } from '../store/tokens.store.js';
import type { UserRow } from '../store/users.store.js';
import type { ClientsService } from './clients.service.js';
import { recordCutoff, type CutoffTarget } from './cutoffs.js';
import { newSecret, sha256Hex } from './secrets.js';
import type { SigningKeys, VerifiedAccessToken } from './signing-keys.js';
import { ADMIN_SCOPE, validateEmail, validateUsername } from './validation.js';

const UNIQUE_VIOLATION = '23505';

/** Issuing, rotating and revoking tokens. Refresh tokens live in families: one chain of rotations. */
export class TokenService {
  constructor(
    private readonly store: AuthStore,
    private readonly keys: SigningKeys,
    private readonly clients: ClientsService,
    private readonly refreshTtlSeconds: number,
    private readonly logger: Logger,
  ) {}

  /** The direct-connect flow: a first-party confidential client asks for a user's tokens. */
  async issueUserToken(input: authPb.IssueUserTokenRequest): Promise<authPb.TokenResponse> {
    const clientId = assertUuid('client_id', input.clientId);
    if (!input.clientSecret) throw invalid('client_secret', 'client_secret is required');
    const username = validateUsername(input.username);
    const email = validateEmail(input.email);
    const client = await this.clients.authenticate(clientId, input.clientSecret);
    if (!client) throw unauthenticated('invalid client credentials');
    if (!client.first_party || !client.user_token_flow_enabled) {
      throw forbidden('this client may not use the user-token flow');
    }
    const clientScope = client.scopes.filter((s) => s !== ADMIN_SCOPE);
    if (clientScope.length === 0) throw forbidden('this client has no scope a user token may carry');

    // Two first requests for one new user can race on the unique username; the loser retries and finds it.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.transaction(async (tx) => {
          const { user, consented } = await this.userForFlow(
            tx,
            clientId,
            clientScope,
            username,
            email,
            input.createIfMissing,
          );
          // Only what the user consented to, and only what the client may still ask for.
          const scope = clientScope.filter((s) => consented.includes(s));
          if (scope.length === 0)
            throw forbidden('the user consented to no scope this client may still carry');
          const pair = await this.issuePair(tx, { userId: user.id, clientId, scope, familyId: newId() });
          return { ...pair, userId: user.id };
        });
      } catch (err) {
        if (attempt === 0 && (err as { code?: string }).code === UNIQUE_VIOLATION) continue;
        throw err;
      }
    }
  }

  /**
   * A client may mint tokens only for users who consented to it: in the authorization flow, or by
   * being created through this flow (which records the consent). Knowing a username and email must
   * not be enough to act as someone, and a withdrawn consent stops the client.
   */
  private async userForFlow(
    tx: AuthStore,
    clientId: string,
    clientScope: string[],
    username: string,
    email: string,
    create: boolean,
  ): Promise<{ user: UserRow; consented: string[] }> {
    const user = await tx.users.findByUsername(username);
    if (user) {
      if (user.is_admin) throw forbidden('tokens for the admin account are never issued through this flow');
      if (!user.active) throw forbidden('this account is deactivated');
      const consent = await tx.consents.find(user.id, clientId);
      if (!consent) throw forbidden('this client may mint tokens only for users who consented to it');
      if ((user.email ?? '').toLowerCase() !== email.toLowerCase()) {
        throw invalid('email', 'email does not match the one on file for this user');
      }
      return { user, consented: consent.scope.split(' ').filter(Boolean) };
    }
    if (!create) throw new DomainError('not_found', `no user named "${username}"`, 'username');
    const created = await tx.users.insert({
      id: newId(),
      username,
      email,
      display_name: username,
      password_hash: null,
      is_admin: false,
      active: true,
      created_by_client_id: clientId,
    });
    await tx.consents.upsert(created.id, clientId, clientScope.join(' '));
    await tx.enqueue('auth.user.created', {
      user_id: created.id,
      username,
      occurred_at: new Date().toISOString(),
    });
    return { user: created, consented: clientScope };
  }

  /** A new access token plus a refresh token in the given family (a new family for a fresh grant). */
  async issuePair(
    tx: AuthStore,
    p: { userId: string; clientId: string; scope: string[]; familyId: string; refreshId?: string },
  ): Promise<Omit<authPb.TokenResponse, 'userId'>> {
    const access = await this.keys.signAccessToken({
      userId: p.userId,
      clientId: p.clientId,
      scope: p.scope,
      familyId: p.familyId,
    });
    const refreshToken = newSecret();
    const refreshExpiresAt = new Date(Date.now() + this.refreshTtlSeconds * 1000);
    await this.saveRefreshToken(tx, {
      ...p,
      id: p.refreshId ?? newId(),
      token: refreshToken,
      expiresAt: refreshExpiresAt,
    });
    return {
      accessToken: access.token,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.keys.ttlSeconds,
      scope: p.scope.join(' '),
    };
  }

  /** Only the hash of a refresh token is ever stored. */
  async saveRefreshToken(
    tx: AuthStore,
    p: {
      id: string;
      token: string;
      familyId: string;
      userId: string;
      clientId: string;
      scope: string[];
      expiresAt: Date;
      resource?: string | null;
    },
  ): Promise<void> {
    await tx.tokens.insertRefreshToken({
      resource: p.resource ?? null,
      id: p.id,
      token_hash: sha256Hex(p.token),
      family_id: p.familyId,
      user_id: p.userId,
      client_id: p.clientId,
      scope: p.scope.join(' '),
      expires_at: p.expiresAt,
    });
  }

  async findRefreshToken(token: string): Promise<RefreshTokenRow | undefined> {
    return this.store.tokens.findRefreshToken(sha256Hex(token));
  }

  /** Reuse of a spent refresh token means it leaked: every token of its family dies, access tokens too. */
  async revokeFamily(row: RefreshTokenRow, reason: string): Promise<void> {
    const n = await this.store.transaction(async (tx) => {
      const revoked = await tx.tokens.revokeFamily(row.family_id);
      await this.cutOff(tx, { familyId: row.family_id });
      return revoked;
    });
    this.logger.warn(
      { familyId: row.family_id, userId: row.user_id, clientId: row.client_id, revoked: n, reason },
      'refresh token family revoked',
    );
  }

  /** A client gave the grant up (RFC 7009): every refresh token of the family goes, and its access tokens. */
  async revokeGrant(row: RefreshTokenRow): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.tokens.revokeFamily(row.family_id);
      await this.cutOff(tx, { familyId: row.family_id });
    });
  }

  /** See recordCutoff: access tokens of the user / client / family issued until now stop working. */
  cutOff(tx: AuthStore, p: CutoffTarget): Promise<void> {
    return recordCutoff(tx, this.keys.ttlSeconds, p);
  }

  /** A verified access token that was revoked by id or falls under a cut-off. */
  async isInvalidated(p: VerifiedAccessToken): Promise<boolean> {
    if (await this.store.tokens.isRevoked(p.jti)) return true;
    // Without iat_ms the token may have been issued at any moment of its second: assume the latest.
    const issuedAt = new Date(typeof p.iat_ms === 'number' ? p.iat_ms : ((p.iat ?? 0) + 1) * 1000 - 1);
    return this.store.tokens.isCutOff({ userId: p.sub, clientId: p.client_id, familyId: p.fid, issuedAt });
  }

  /** Marks a live refresh token spent and names its successor; false if someone else spent it first. */
  claimForRotation(row: RefreshTokenRow, successorId: string): Promise<boolean> {
    return this.store.tokens.claimForRotation(row.id, successorId);
  }

  isRevoked(jti: string): Promise<boolean> {
    return this.store.tokens.isRevoked(jti);
  }

  async revokeAccessToken(payload: VerifiedAccessToken): Promise<void> {
    await this.revokeJtis([{ jti: payload.jti, expiresAt: new Date(payload.exp * 1000) }]);
  }

  /** Adds access-token ids to the deny-list and tells every gateway (auth.token.revoked). */
  async revokeJtis(tokens: { jti: string; expiresAt: Date }[]): Promise<void> {
    if (tokens.length === 0) return;
    await this.store.transaction(async (tx) => {
      for (const t of tokens) {
        if (!(await tx.tokens.insertRevocation(t.jti, t.expiresAt))) continue;
        await tx.enqueue('auth.token.revoked', {
          jti: t.jti,
          expires_at: t.expiresAt.toISOString(),
          occurred_at: new Date().toISOString(),
        });
      }
    });
  }

  /**
   * A spent authorization code came back (RFC 6749 §4.1.2): it leaked, so everything its first
   * redemption issued dies, the refresh family and the access tokens alike.
   */
  async revokeIssuedFromCode(row: AuthorizationCodeRow): Promise<void> {
    await this.store.codes.markReplayed(row.code_hash);
    const fresh = (await this.store.codes.find(row.code_hash)) ?? row;
    const familyId = fresh.family_id;
    const n = familyId
      ? await this.store.transaction(async (tx) => {
          const revoked = await tx.tokens.revokeFamily(familyId);
          await this.cutOff(tx, { familyId });
          return revoked;
        })
      : 0;
    const live = fresh.access_tokens
      .map((t) => ({ jti: t.jti, expiresAt: new Date(t.expires_at) }))
      .filter((t) => t.expiresAt > new Date());
    await this.revokeJtis(live);
    this.logger.warn(
      {
        clientId: fresh.client_id,
        userId: fresh.user_id,
        familyId: fresh.family_id,
        refreshRevoked: n,
        accessRevoked: live.length,
      },
      'authorization code replayed: its tokens are revoked',
    );
  }

  listRevocations(since: Date | undefined) {
    return this.store.tokens.listRevocations(since, new Date());
  }

  async listCutoffs() {
    const now = new Date();
    await this.store.tokens.deleteExpiredCutoffs(now);
    return this.store.tokens.listCutoffs(now);
  }
}
