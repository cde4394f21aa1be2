import { createRateLimitTable, type Knex, type Migration } from '@picard/service-kit';

/** Issue #11: login throttling and the gateway's rate limits in the database, shared by every instance. */
export const rateLimits: Migration = {
  name: '005_rate_limits',
  async up(knex: Knex) {
    await createRateLimitTable(knex);
  },
};
