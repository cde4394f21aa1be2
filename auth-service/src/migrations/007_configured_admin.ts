import type { Knex, Migration } from '@picard/service-kit';

/**
 * Which PICARD_ADMIN_* settings were last applied, as a keyed fingerprint (never the password):
 * a start with the same settings leaves the admin alone (no password hash on every start, and a
 * password the admin changed since is kept); changed settings are applied.
 */
export const configuredAdmin: Migration = {
  name: '007_configured_admin',
  async up(knex: Knex) {
    await knex.schema.createTable('configured_admin', (t) => {
      t.text('username').primary();
      t.text('fingerprint').notNullable();
      t.timestamp('applied_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
  },
};
