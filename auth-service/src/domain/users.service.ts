import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  assertUuid,
  DomainError,
  forbidden,
  invalid,
  newId,
  notFound,
  unauthenticated,
  type Caller,
  type Logger,
} from '@picard/service-kit';
import { AUTH_LIMITS, LOOKUP_LIMITS, type authPb } from '@picard/proto';
import type { AuthStore } from '../store/auth.store.js';
import type { UserRefRow, UserRow } from '../store/users.store.js';
import type { ConsentRow } from '../store/consents.store.js';
import { publicClientId } from '../store/clients.store.js';
import { recordCutoff } from './cutoffs.js';
import { callerAccount, isAdminCaller, requireAdminAccount, requireUserWithScope } from './access.js';
import type { LoginThrottle } from './login-throttle.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { decodeCursor, encodeCursor } from './user-cursor.js';
import {
  READ_SCOPE,
  validateDisplayName,
  validateEmail,
  validateNewPassword,
  validatePassword,
  validateUsername,
} from './validation.js';

/** EnsureAdmin's request; from PICARD_ADMIN_* at start-up the email may be left out. */
export type EnsureAdminInput = Omit<authPb.EnsureAdminRequest, 'email'> &
  Partial<Pick<authPb.EnsureAdminRequest, 'email'>>;

const UNIQUE_VIOLATION = '23505';

export class UsersService {
  constructor(
    private readonly store: AuthStore,
    private readonly logger: Logger,
    private readonly throttle?: LoginThrottle,
    /** Access-token lifetime: how long a cut-off must be kept (see recordCutoff). */
    private readonly accessTtlSeconds = 3600,
  ) {}

  /**
   * PICARD_ADMIN_* at start: applied (ensureAdmin) when the admin is missing, inactive, or the
   * settings differ from the ones last applied. Compared as an HMAC under a sub-key of `configKey`
   * (AUTH_KEY_ENCRYPTION_KEY), so an unchanged start costs no password hash and a password
   * the admin changed since is kept; the fingerprint tells nothing without the key, and whoever has
   * the key has the configuration, password included. Without a key the settings are always applied.
   */
  async applyConfiguredAdmin(
    input: EnsureAdminInput,
    configKey?: Buffer,
  ): Promise<{ admin: UserRow; applied: boolean }> {
    const fingerprint = configKey && adminFingerprint(configKey, input);
    if (fingerprint) {
      const existing = await this.store.users.findByUsername(input.username);
      const stored =
        existing?.is_admin &&
        existing.active &&
        (await this.store.users.configuredAdminFingerprint(input.username));
      if (existing && stored && sameText(stored, fingerprint)) return { admin: existing, applied: false };
    }
    const admin = await this.ensureAdmin(input);
    if (fingerprint) await this.store.users.recordConfiguredAdmin(input.username, fingerprint);
    return { admin, applied: true };
  }

  /**
   * Creates the admin, or sets the existing admin's password (and email, if given). An ordinary
   * account of that name is refused: promoting it would hand its holder, and every token and consent
   * it has, the admin's powers.
   */
  async ensureAdmin(input: EnsureAdminInput): Promise<UserRow> {
    const username = validateUsername(input.username);
    const password = validatePassword(input.password);
    const email = input.email ? validateEmail(input.email) : undefined;
    // Hash before the transaction: scrypt takes ~100 ms and must not hold a transaction open.
    const passwordHash = await hashPassword(password);
    return this.store.transaction(async (tx) => {
      const existing = await tx.users.findByUsername(username);
      if (existing) {
        if (!existing.is_admin) {
          throw new DomainError(
            'unprocessable',
            `"${username}" is an existing ordinary account and is never turned into the admin: choose another admin username`,
            'username',
          );
        }
        return tx.users.update(existing.id, {
          password_hash: passwordHash,
          is_admin: true,
          active: true,
          ...(email ? { email } : {}),
        });
      }
      return this.insertUser(tx, {
        username,
        email: email ?? null,
        displayName: username,
        passwordHash,
        isAdmin: true,
      });
    });
  }

  /** Sign-up. Anyone may call it (the gateway's sign-up page); the account is never an admin. */
  async register(input: authPb.RegisterUserRequest): Promise<UserRow> {
    const username = validateUsername(input.username);
    const email = validateEmail(input.email);
    const password = validateNewPassword(input.password, 'password');
    const displayName = input.displayName?.trim() ? validateDisplayName(input.displayName) : username;
    // Hash before looking the name up: "taken" then costs as much as a sign-up, so the form cannot be
    // used as a cheap way to list which usernames exist.
    const passwordHash = await hashPassword(password);
    if (await this.store.users.findByUsername(username)) throw taken();
    try {
      return await this.store.transaction((tx) =>
        this.insertUser(tx, { username, email, displayName, passwordHash, isAdmin: false }),
      );
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw taken();
      throw err;
    }
  }

  /**
   * One message for every failure, and the same work whether or not the account exists. Failures
   * count per source and per account from that source (see LoginThrottle).
   */
  async authenticate(username: string, password: string, remoteIp = ''): Promise<UserRow> {
    const name = typeof username === 'string' ? username : '';
    await this.throttle?.assertAllowed(name, remoteIp);
    const plausible = name.length > 0 && name.length <= 64;
    const user = plausible ? await this.store.users.findByUsername(name) : undefined;
    const ok = await verifyPassword(typeof password === 'string' ? password : '', user?.password_hash);
    if (!ok || !user || !user.active) {
      await this.throttle?.recordFailure(name, remoteIp);
      throw unauthenticated('invalid username or password');
    }
    await this.throttle?.recordSuccess(name, remoteIp);
    // A hash made with older, weaker parameters is replaced now that the password is at hand.
    if (needsRehash(user.password_hash)) {
      const rehashed = await hashPassword(password);
      return this.store.users.update(user.id, { password_hash: rehashed });
    }
    return user;
  }

  async getUser(caller: Caller, userIdInput: string): Promise<UserRow> {
    const userId = assertUuid('user_id', userIdInput);
    if (caller.userId.toLowerCase() !== userId && !(await isAdminCaller(this.store, caller))) {
      throw forbidden('you may only read your own account');
    }
    const user = await this.store.users.findById(userId);
    if (!user) throw notFound('user not found');
    return user;
  }

  /** Own profile (or the admin's edit): email and display name; the username never changes. */
  async update(caller: Caller, input: authPb.UpdateUserRequest): Promise<UserRow> {
    const user = await this.selfOrAdmin(caller, input.userId);
    const patch: Partial<UserRow> = {};
    if (input.email !== undefined) patch.email = validateEmail(input.email);
    if (input.displayName !== undefined) patch.display_name = validateDisplayName(input.displayName);
    if (Object.keys(patch).length === 0) return user;
    return this.store.users.update(user.id, patch);
  }

  /** Needs the current password; every refresh token of the account is revoked (other sessions end). */
  async changePassword(caller: Caller, input: authPb.ChangePasswordRequest): Promise<UserRow> {
    const userId = assertUuid('user_id', input.userId);
    if (caller.userId.toLowerCase() !== userId) throw forbidden('you may only change your own password');
    const newPassword = validateNewPassword(input.newPassword, 'new_password');
    const user = await this.store.users.findById(userId);
    if (!user?.active) throw forbidden('this account is deactivated or does not exist');
    if (!(await verifyPassword(input.currentPassword ?? '', user.password_hash))) {
      throw new DomainError('unauthenticated', 'current_password is wrong', 'current_password');
    }
    const passwordHash = await hashPassword(newPassword);
    return this.store.transaction(async (tx) => {
      await tx.tokens.revokeAllForUser(user.id);
      // Access tokens too: whoever held one must sign in again with the new password.
      await recordCutoff(tx, this.accessTtlSeconds, { userId: user.id });
      return tx.users.update(user.id, { password_hash: passwordHash });
    });
  }

  /** The user themself or the admin. Refresh tokens die at once; gateways learn from auth.user.deactivated. */
  async deactivate(caller: Caller, userIdInput: string): Promise<UserRow> {
    const user = await this.selfOrAdmin(caller, userIdInput);
    if (user.is_admin) throw forbidden('the admin account cannot be deactivated');
    if (!user.active) return user;
    return this.store.transaction(async (tx) => {
      const updated = await tx.users.update(user.id, { active: false });
      const n = await tx.tokens.revokeAllForUser(user.id);
      // Persisted, so a gateway started after the deactivation still refuses the user's live tokens.
      await recordCutoff(tx, this.accessTtlSeconds, { userId: user.id });
      await tx.enqueue('auth.user.deactivated', { user_id: user.id, occurred_at: new Date().toISOString() });
      this.logger.info({ userId: user.id, byUserId: caller.userId, refreshRevoked: n }, 'user deactivated');
      return updated;
    });
  }

  /** The clients the user approved (or that created the account through direct connect). */
  async listConsents(caller: Caller, userIdInput: string): Promise<(ConsentRow & { client_name: string })[]> {
    const user = await this.selfOrAdmin(caller, userIdInput);
    return this.store.consents.listForUser(user.id);
  }

  /**
   * The client may no longer act for the user: the consent goes, with the client's refresh tokens
   * for this user and (by a cut-off) its live access tokens. The direct-connect flow then refuses
   * it until the user approves it again.
   */
  async withdrawConsent(caller: Caller, input: authPb.WithdrawConsentRequest): Promise<boolean> {
    const user = await this.selfOrAdmin(caller, input.userId);
    const clientId = assertUuid('client_id', input.clientId);
    return this.store.transaction(async (tx) => {
      const client = await tx.clients.findById(clientId);
      const withdrawn = await tx.consents.delete(user.id, clientId);
      if (!withdrawn || !client) return false;
      const n = await tx.tokens.revokeForUserAndClient(user.id, clientId);
      await recordCutoff(tx, this.accessTtlSeconds, { userId: user.id, clientId: publicClientId(client) });
      this.logger.info({ userId: user.id, clientId, refreshRevoked: n }, 'consent withdrawn');
      return true;
    });
  }

  async list(
    caller: Caller,
    input: authPb.ListUsersRequest,
  ): Promise<{ users: UserRow[]; nextCursor?: string }> {
    await requireAdminAccount(this.store, caller);
    const page = AUTH_LIMITS.userPage;
    const limit = input.limit || page.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > page.max)
      throw invalid('limit', `limit must be 1-${page.max}`);
    const after = input.cursor ? decodeCursor(input.cursor) : undefined;
    const rows = await this.store.users.list(limit + 1, after);
    const users = rows.slice(0, limit);
    return { users, nextCursor: rows.length > limit ? encodeCursor(users[users.length - 1]!) : undefined };
  }

  /**
   * Exact usernames and ids to {id, username} of active accounts, for any signed-in user (sharing by
   * name, showing who owns a memory). Never a listing: only what was asked for, each account once.
   * Usernames compare as at registration (case-insensitively); unknown ones are simply left out.
   */
  async lookup(caller: Caller, input: authPb.LookupUsersRequest): Promise<UserRefRow[]> {
    await requireUserWithScope(this.store, caller, READ_SCOPE);
    const { usernames, userIds } = input;
    if (usernames.length === 0 && userIds.length === 0)
      throw invalid('usernames', 'give usernames or user_ids to look up');
    if (usernames.length > LOOKUP_LIMITS.usernames) {
      throw invalid('usernames', `at most ${LOOKUP_LIMITS.usernames} usernames per lookup`);
    }
    if (userIds.length > LOOKUP_LIMITS.userIds)
      throw invalid('user_ids', `at most ${LOOKUP_LIMITS.userIds} user_ids per lookup`);
    const ids = userIds.map((id, i) => assertUuid(`user_ids[${i}]`, id));
    const names = usernames.map((name, i) => {
      if (name.length < 1 || name.length > LOOKUP_LIMITS.username) {
        throw invalid(`usernames[${i}]`, `usernames[${i}] must be 1-${LOOKUP_LIMITS.username} characters`);
      }
      return name.toLowerCase();
    });
    return this.store.users.findActiveRefs([...new Set(names)], [...new Set(ids)]);
  }

  private async selfOrAdmin(caller: Caller, userIdInput: string): Promise<UserRow> {
    const userId = assertUuid('user_id', userIdInput);
    if (caller.userId.toLowerCase() !== userId) {
      await requireAdminAccount(this.store, caller);
    } else if (!(await callerAccount(this.store, caller))) {
      throw forbidden('this account is deactivated or does not exist');
    }
    const user = await this.store.users.findById(userId);
    if (!user) throw notFound('user not found');
    return user;
  }

  private async insertUser(
    tx: AuthStore,
    u: {
      username: string;
      email: string | null;
      displayName: string;
      passwordHash: string;
      isAdmin: boolean;
    },
  ): Promise<UserRow> {
    const user = await tx.users.insert({
      id: newId(),
      username: u.username,
      email: u.email,
      display_name: u.displayName,
      password_hash: u.passwordHash,
      is_admin: u.isAdmin,
      active: true,
    });
    await tx.enqueue('auth.user.created', {
      user_id: user.id,
      username: u.username,
      occurred_at: new Date().toISOString(),
    });
    if (u.isAdmin) this.logger.info({ userId: user.id, username: u.username }, 'admin created');
    return user;
  }
}

const taken = () => new DomainError('already_exists', 'this username is taken', 'username');

function adminFingerprint(configKey: Buffer, input: EnsureAdminInput): string {
  // A sub-key of its own, so the configured key is never used for two purposes.
  const key = createHmac('sha256', configKey).update('picard admin settings v1').digest();
  return createHmac('sha256', key)
    .update(JSON.stringify([input.username.toLowerCase(), input.password, input.email ?? '']))
    .digest('base64url');
}

const sameText = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
