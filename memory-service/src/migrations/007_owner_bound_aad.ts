import type { Knex, Migration } from '@picard/service-kit';

/**
 * The memory cipher binds the owner into each ciphertext's authenticated data from AAD version 2
 * on. Rows already stored say version 1 and stay readable; the key-rotation job (MEMORY_KEY_ROTATION=auto,
 * at start) reseals them under version 2 in batches, like rows under an old key. New rows are
 * written with their version explicitly; the default only covers a writer that forgets.
 */
export const ownerBoundAad: Migration = {
  name: '007_owner_bound_aad',
  async up(knex: Knex) {
    await knex.raw('ALTER TABLE memories ADD COLUMN aad_version smallint NOT NULL DEFAULT 1');
    await knex.raw('ALTER TABLE memories ALTER COLUMN aad_version SET DEFAULT 2');
  },
};
