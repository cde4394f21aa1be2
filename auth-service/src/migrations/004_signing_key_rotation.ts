import type { Knex, Migration } from '@picard/service-kit';

/**
 * Issue #3: a key is published from created_at but signs only from activates_at, so every
 * gateway's JWKS cache can hold it before the first token it signs arrives. Existing keys signed
 * from the moment they were made.
 */
export const signingKeyRotation: Migration = {
  name: '004_signing_key_rotation',
  async up(knex: Knex) {
    await knex.schema.alterTable('signing_keys', (t) => {
      t.timestamp('activates_at', { useTz: true }).nullable();
    });
    await knex('signing_keys').update({ activates_at: knex.ref('created_at') });
    await knex.raw('ALTER TABLE signing_keys ALTER COLUMN activates_at SET NOT NULL');
  },
};
