import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export type SignInMethod = 'password' | 'picard';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  password_hash: string | null;
  picard_user_id: string;
  sign_in: SignInMethod;
  created_at: Date;
  deactivated_at: Date | null;
}

const UNIQUE_VIOLATION = '23505';
export const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === UNIQUE_VIOLATION;

/** The web app's own accounts: the only place with SQL about them. */
export class UsersStore {
  constructor(private readonly db: Knex) {}

  async findById(id: string): Promise<UserRow | undefined> {
    return this.db<UserRow>('users').where({ id }).first();
  }

  async findByUsername(username: string): Promise<UserRow | undefined> {
    return this.db<UserRow>('users').whereRaw('lower(username) = lower(?)', [username]).first();
  }

  async findByPicardId(picardUserId: string): Promise<UserRow | undefined> {
    return this.db<UserRow>('users').where({ picard_user_id: picardUserId }).first();
  }

  /** Throws a unique violation (isUniqueViolation) when the username or Picard id is taken. */
  async insert(u: Omit<UserRow, 'id' | 'created_at' | 'deactivated_at'>): Promise<UserRow> {
    const [row] = await this.db<UserRow>('users')
      .insert({ id: randomUUID(), ...u })
      .returning('*');
    return row!;
  }

  async updateEmail(id: string, email: string): Promise<void> {
    await this.db('users').where({ id }).update({ email });
  }

  async updatePasswordHash(id: string, hash: string): Promise<void> {
    await this.db('users').where({ id }).update({ password_hash: hash });
  }

  async deactivate(id: string): Promise<void> {
    await this.db('users').where({ id }).update({ deactivated_at: this.db.fn.now() });
  }
}
