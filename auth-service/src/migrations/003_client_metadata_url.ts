import type { Knex, Migration } from '@picard/service-kit';

/**
 * Issue #3: clients identified by a Client ID Metadata Document keep a UUID like every other
 * client (codes, consents and tokens refer to it); the URL they call themselves maps to it here.
 */
export const clientMetadataUrl: Migration = {
  name: '003_client_metadata_url',
  async up(knex: Knex) {
    await knex.schema.alterTable('clients', (t) => {
      t.text('metadata_url').nullable().unique();
    });
  },
};
