import type { Knex } from 'knex';

/** A row as stored: both tokens sealed. */
export interface TokenRow {
  id: string;
  user_id: string;
  access_token: string;
  refresh_token: string;
  key_id: string;
  expires_at: Date;
  scope: string;
  /** When this pair was issued (stored). */
  updated_at: Date;
}

/** Picard token sets, one per sign-in; values arrive here already sealed. */
export class TokensStore {
  constructor(private readonly db: Knex) {}

  async find(id: string): Promise<TokenRow | undefined> {
    return this.db<TokenRow>('picard_tokens').where({ id }).first();
  }

  async insert(row: TokenRow): Promise<void> {
    await this.db('picard_tokens').insert(row);
  }

  async replace(id: string, values: Omit<TokenRow, 'id' | 'user_id'>): Promise<void> {
    await this.db('picard_tokens').where({ id }).update(values);
  }

  async delete(id: string): Promise<void> {
    await this.db('picard_tokens').where({ id }).delete();
  }

  async deleteForUser(userId: string): Promise<TokenRow[]> {
    return this.db<TokenRow>('picard_tokens').where({ user_id: userId }).delete().returning('*');
  }
}
