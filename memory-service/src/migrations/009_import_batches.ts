import type { Knex, Migration } from '@picard/service-kit';

/**
 * The batches an import has written, each recorded in the transaction that wrote it: a retry of
 * the same import (after a crash, a lost connection, an instance killed mid-stream) skips them,
 * so nothing is written twice and nothing half. The file's digest ties an import id to one file.
 */
export const importBatches: Migration = {
  name: '009_import_batches',
  async up(knex: Knex) {
    await knex.schema.createTable('import_batches', (t) => {
      t.uuid('user_id').notNullable();
      t.text('import_id').notNullable();
      t.integer('first_item').notNullable();
      t.text('file_digest').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['user_id', 'import_id', 'first_item']);
      t.index(['created_at'], 'import_batches_created_idx');
    });
  },
};
