import type { Knex, Migration } from '@picard/service-kit';

/**
 * Searches per user and UTC day, for the activity dashboard's "searches over time". One row per
 * user per day with searches; the expiry sweeper drops days older than SEARCH_DAYS_KEPT.
 */
export const searchDays: Migration = {
  name: '004_search_days',
  async up(knex: Knex) {
    await knex.schema.createTable('user_search_days', (t) => {
      t.uuid('user_id').notNullable();
      t.date('day').notNullable();
      t.bigInteger('searches').notNullable().defaultTo(0);
      t.primary(['user_id', 'day']);
      t.index(['day'], 'user_search_days_day_idx');
    });
  },
};
