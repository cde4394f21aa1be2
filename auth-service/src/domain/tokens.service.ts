import {
  assertUuid,
  DomainError,
  forbidden,
  invalid,
  newId,
  unauthenticated,
  type Logger,
} from '@picard/service-kit';
import type { AuthStore } from '../store/auth.store.js';
import type { RefreshTokenRow } from '../store/tokens.store.js';
import type { UserRow } from '../store/users.store.js';
import type { ClientsService } from './clients.service.js';
import { newSecret, sha256Hex } from './secrets.js';
import type { SigningKeys, VerifiedAccessToken } from './signing-keys.js';
import { ADMIN_SCOPE, validateEmail, validateUsername } from './validation.js';

export interface IssueUserTokenInput {
  clientId: string;
  clientSecret: string;
  username: string;
  email: string;
  createIfMissing: boolean;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  scope: string;
  userId: string;
}

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
  async issueUserToken(input: IssueUserTokenInput): Promise<IssuedTokens> {
    const clientId = assertUuid('client_id', input.clientId);
    if (!input.clientSecret) throw invalid('client_secret', 'client_secret is required');
    const username = validateUsername(input.username);
    const email = validateEmail(input.email);
    const client = await this.clients.authenticate(clientId, input.clientSecret);
    if (!client) throw unauthenticated('invalid client credentials');
    if (!client.first_party || !client.user_token_flow_enabled) {
      throw forbidden('this client may not use the user-token flow');
    }
    const scope = client.scopes.filter((s) => s !== ADMIN_SCOPE);
    if (scope.length === 0) throw forbidden('this client has no scope a user token may carry');

    // Two first requests for one new user can race on the unique username; the loser retries and finds it.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.transaction(async (tx) => {
          const user = await this.userForFlow(tx, username, email, input.createIfMissing);
          const pair = await this.issuePair(tx, { userId: user.id, clientId, scope, familyId: newId() });
          return { ...pair, userId: user.id };
        });
      } catch (err) {
        if (attempt === 0 && (err as { code?: string }).code === UNIQUE_VIOLATION) continue;
        throw err;
      }
    }
  }

  private async userForFlow(tx: AuthStore, username: string, email: string, create: boolean): Promise<UserRow> {
    const user = await tx.users.findByUsername(username);
    if (user) {
      if (user.is_admin) throw forbidden('tokens for the admin account are never issued through this flow');
      if (!user.active) throw forbidden('this account is deactivated');
      if ((user.email ?? '').toLowerCase() !== email.toLowerCase()) {
        throw invalid('email', 'email does not match the one on file for this user');
      }
      return user;
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
    });
    await tx.enqueue('auth.user.created', { user_id: created.id, username, occurred_at: new Date().toISOString() });
    return created;
  }

  /** A new access token plus a refresh token in the given family (a new family for a fresh grant). */
  async issuePair(
    tx: AuthStore,
    p: { userId: string; clientId: string; scope: string[]; familyId: string; refreshId?: string },
  ): Promise<Omit<IssuedTokens, 'userId'>> {
    const access = await this.keys.signAccessToken({ userId: p.userId, clientId: p.clientId, scope: p.scope });
    const refreshToken = newSecret();
    const refreshExpiresAt = new Date(Date.now() + this.refreshTtlSeconds * 1000);
    await this.saveRefreshToken(tx, { ...p, id: p.refreshId ?? newId(), token: refreshToken, expiresAt: refreshExpiresAt });
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
    p: { id: string; token: string; familyId: string; userId: string; clientId: string; scope: string[]; expiresAt: Date },
  ): Promise<void> {
    await tx.tokens.insertRefreshToken({
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

  /** Reuse of a spent refresh token means it leaked: every token of its family dies. */
  async revokeFamily(row: RefreshTokenRow, reason: string): Promise<void> {
    const n = await this.store.tokens.revokeFamily(row.family_id);
    this.logger.warn({ familyId: row.family_id, userId: row.user_id, clientId: row.client_id, revoked: n, reason }, 'refresh token family revoked');
  }

  /** A client gave the grant up (RFC 7009): every refresh token of the family goes. */
  async revokeGrant(row: RefreshTokenRow): Promise<void> {
    await this.store.tokens.revokeFamily(row.family_id);
  }

  /** Marks a live refresh token spent and names its successor; false if someone else spent it first. */
  claimForRotation(row: RefreshTokenRow, successorId: string): Promise<boolean> {
    return this.store.tokens.claimForRotation(row.id, successorId);
  }

  isRevoked(jti: string): Promise<boolean> {
    return this.store.tokens.isRevoked(jti);
  }

  async revokeAccessToken(payload: VerifiedAccessToken): Promise<void> {
    const expiresAt = new Date(payload.exp * 1000);
    await this.store.transaction(async (tx) => {
      if (!(await tx.tokens.insertRevocation(payload.jti, expiresAt))) return;
      await tx.enqueue('auth.token.revoked', {
        jti: payload.jti,
        expires_at: expiresAt.toISOString(),
        occurred_at: new Date().toISOString(),
      });
    });
  }

  listRevocations(since: Date | undefined) {
    return this.store.tokens.listRevocations(since, new Date());
  }
}
