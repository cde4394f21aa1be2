import { assertUuid, forbidden, newId, notFound, unauthenticated, type Caller, type Logger } from '@picard/service-kit';
import type { AuthStore } from '../store/auth.store.js';
import type { UserRow } from '../store/users.store.js';
import { isAdminCaller } from './access.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { validateEmail, validatePassword, validateUsername } from './validation.js';

export interface EnsureAdminInput {
  username: string;
  password: string;
  email?: string;
}

export class UsersService {
  constructor(
    private readonly store: AuthStore,
    private readonly logger: Logger,
  ) {}

  /** Creates the admin, or makes the named account the admin with this password (and email, if given). */
  async ensureAdmin(input: EnsureAdminInput): Promise<UserRow> {
    const username = validateUsername(input.username);
    const password = validatePassword(input.password);
    const email = input.email ? validateEmail(input.email) : undefined;
    // Hash before the transaction: scrypt takes ~100 ms and must not hold a transaction open.
    const passwordHash = await hashPassword(password);
    return this.store.transaction(async (tx) => {
      const existing = await tx.users.findByUsername(username);
      if (existing) {
        if (!existing.is_admin) this.logger.warn({ userId: existing.id, username }, 'promoting an existing user to admin');
        return tx.users.update(existing.id, {
          password_hash: passwordHash,
          is_admin: true,
          active: true,
          ...(email ? { email } : {}),
        });
      }
      const user = await tx.users.insert({
        id: newId(),
        username,
        email: email ?? null,
        display_name: username,
        password_hash: passwordHash,
        is_admin: true,
        active: true,
      });
      await tx.enqueue('auth.user.created', { user_id: user.id, username, occurred_at: new Date().toISOString() });
      this.logger.info({ userId: user.id, username }, 'admin created');
      return user;
    });
  }

  /** One message for every failure, and the same work whether or not the account exists. */
  async authenticate(username: string, password: string): Promise<UserRow> {
    const plausible = typeof username === 'string' && username.length > 0 && username.length <= 64;
    const user = plausible ? await this.store.users.findByUsername(username) : undefined;
    const ok = await verifyPassword(typeof password === 'string' ? password : '', user?.password_hash);
    if (!ok || !user || !user.active) throw unauthenticated('invalid username or password');
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
}
