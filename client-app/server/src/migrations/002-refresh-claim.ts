import type { Knex } from 'knex';

/**
 * Who is refreshing a grant's tokens right now (TokenVault): the database's time an instance
 * claimed the refresh, null when none is under way. Refresh tokens rotate on every use and a
 * second use revokes the whole family, so several web app instances must not refresh one grant
 * at once; the claim is a lease (it lapses if its holder dies mid-refresh).
 */
export const refreshClaim = {
  name: '002-refresh-claim',
  async up(knex: Knex): Promise<void> {
    await knex.raw('ALTER TABLE picard_tokens ADD COLUMN refresh_claimed_at timestamptz NULL');
  },
};
