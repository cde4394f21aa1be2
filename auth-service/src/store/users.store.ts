import type { Db } from './db.js';
import { toDate } from './db.js';

export interface UserRow {
  id: string;
  username: string;
  email: string | null;
  display_name: string;
  password_hash: string | null;
  is_admin: boolean;
  active: boolean;
  created_at: Date;
}

const fromDb = (r: Record<string, unknown>): UserRow => ({ ...(r as unknown as UserRow), created_at: toDate(r.created_at) });

export class UsersStore {
  constructor(private readonly db: Db) {}

  async findById(id: string): Promise<UserRow | undefined> {
    const row = await this.db('users').where({ id }).first();
    return row ? fromDb(row) : undefined;
  }

  async findByUsername(username: string): Promise<UserRow | undefined> {
    const row = await this.db('users').whereRaw('lower(username) = lower(?)', [username]).first();
    return row ? fromDb(row) : undefined;
  }

  async insert(row: Omit<UserRow, 'created_at'>): Promise<UserRow> {
    const [inserted] = await this.db('users').insert(row).returning('*');
    return fromDb(inserted);
  }

  async update(id: string, patch: Partial<Omit<UserRow, 'id' | 'created_at'>>): Promise<UserRow> {
    const [updated] = await this.db('users').where({ id }).update(patch).returning('*');
    return fromDb(updated);
  }
}
