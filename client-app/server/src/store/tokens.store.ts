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
  /** When an instance claimed the refresh of this pair (database clock); null when none is under way. */
  refresh_claimed_at?: Date | null;
}

/**
 * How long a claim to refresh holds (TokenVault): longer than a refresh call may take (openid-client
 * gives up after 30 s), so only a claim whose holder died lapses.
 */
export const REFRESH_CLAIM_SECONDS = 40;

/** Picard token sets, one per sign-in; values arrive here already sealed. */
export class TokensStore {
  constructor(private readonly db: Knex) {}

  async find(id: string): Promise<TokenRow | undefined> {
    return this.db<TokenRow>('picard_tokens').where({ id }).first();
  }

  async insert(row: TokenRow): Promise<void> {
    await this.db('picard_tokens').insert(row);
  }

  /** Stores a refreshed pair, ending the refresh's claim. */
  async replace(id: string, values: Omit<TokenRow, 'id' | 'user_id'>): Promise<void> {
    await this.db('picard_tokens')
      .where({ id })
      .update({ ...values, refresh_claimed_at: null });
  }

  /**
   * Claims the refresh of the pair issued at `issuedAt` (its `updated_at`): true when the caller
   * may refresh it. False when the pair has been replaced since, or another instance holds a claim
   * that has not lapsed: the caller reads the row again instead.
   */
  async claimRefresh(id: string, issuedAt: Date): Promise<boolean> {
    const claimed = await this.db('picard_tokens')
      .where({ id, updated_at: issuedAt })
      .whereRaw('(refresh_claimed_at IS NULL OR refresh_claimed_at < now() - make_interval(secs => ?))', [
        REFRESH_CLAIM_SECONDS,
      ])
      .update({ refresh_claimed_at: this.db.fn.now() });
    return claimed === 1;
  }

  /** Gives a claim up (the refresh failed for a passing reason): another request may try at once. */
  async releaseClaim(id: string): Promise<void> {
    await this.db('picard_tokens').where({ id }).update({ refresh_claimed_at: null });
  }

  async delete(id: string): Promise<void> {
    await this.db('picard_tokens').where({ id }).delete();
  }

  async deleteForUser(userId: string): Promise<TokenRow[]> {
    return this.db<TokenRow>('picard_tokens').where({ user_id: userId }).delete().returning('*');
  }
}
