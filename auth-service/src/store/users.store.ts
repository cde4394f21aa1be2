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
  /** The client whose direct-connect flow created this user (null for everyone else). */
  created_by_client_id: string | null;
  created_at: Date;
}

/** What any signed-in user may learn about another account. */
export type UserRefRow = Pick<UserRow, 'id' | 'username'>;

const fromDb = (r: Record<string, unknown>): UserRow => ({
  ...(r as unknown as UserRow),
  created_at: toDate(r.created_at),
});

export class UsersStore {
  constructor(private readonly db: Db) {}

  async findById(id: string): Promise<UserRow | undefined> {
    const row = await this.db('users').where({ id }).first();
    return row ? fromDb(row) : undefined;
  }

  /** The fingerprint of the PICARD_ADMIN_* settings last applied to this admin (see 007_configured_admin). */
  async configuredAdminFingerprint(username: string): Promise<string | undefined> {
    const row = await this.db('configured_admin').where({ username: username.toLowerCase() }).first();
    return row?.fingerprint;
  }

  async recordConfiguredAdmin(username: string, fingerprint: string): Promise<void> {
    await this.db('configured_admin')
      .insert({ username: username.toLowerCase(), fingerprint, applied_at: new Date() })
      .onConflict('username')
      .merge();
  }

  async findByUsername(username: string): Promise<UserRow | undefined> {
    const row = await this.db('users').whereRaw('lower(username) = lower(?)', [username]).first();
    return row ? fromDb(row) : undefined;
  }

  /**
   * Active accounts among the given lower-cased usernames and ids. Selects the two public columns
   * only, so nothing else (emails above all) can leak out of a lookup.
   */
  async findActiveRefs(lowerUsernames: string[], ids: string[]): Promise<UserRefRow[]> {
    if (lowerUsernames.length === 0 && ids.length === 0) return [];
    return this.db('users')
      .select('id', 'username')
      .where({ active: true })
      .where((q) => {
        // lower(username) is what the unique index covers, so this is an index lookup per name.
        if (lowerUsernames.length) {
          q.orWhereRaw(`lower(username) in (${lowerUsernames.map(() => '?').join(', ')})`, lowerUsernames);
        }
        if (ids.length) q.orWhereIn('id', ids);
      })
      .orderByRaw('lower(username), id');
  }

  /** Keyset paging in creation order; the cursor is the last row's (created_at, id). */
  async list(limit: number, after?: { createdAt: Date; id: string }): Promise<UserRow[]> {
    // Compared at millisecond precision: the cursor carries a JS Date, the column has microseconds.
    const q = this.db('users').orderByRaw(`date_trunc('milliseconds', created_at), id`).limit(limit);
    if (after)
      q.whereRaw(`(date_trunc('milliseconds', created_at), id) > (?, ?)`, [after.createdAt, after.id]);
    return (await q).map(fromDb);
  }

  async insert(
    row: Omit<UserRow, 'created_at' | 'created_by_client_id'> & { created_by_client_id?: string | null },
  ): Promise<UserRow> {
    const [inserted] = await this.db('users').insert(row).returning('*');
    return fromDb(inserted);
  }

  async update(id: string, patch: Partial<Omit<UserRow, 'id' | 'created_at'>>): Promise<UserRow> {
    const [updated] = await this.db('users').where({ id }).update(patch).returning('*');
    return fromDb(updated);
  }
}
