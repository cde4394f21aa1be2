import type { Knex, Migration } from '@picard/service-kit';

/** Which model made the vectors in `memories.embedding`: the one queries must be embedded with. */
export const embeddingState: Migration = {
  name: '003_embedding_state',
  async up(knex: Knex) {
    await knex.schema.createTable('embedding_state', (t) => {
      t.smallint('id').primary();
      t.text('model').notNullable();
      t.integer('dimensions').notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.raw('ALTER TABLE embedding_state ADD CONSTRAINT embedding_state_one_row CHECK (id = 1)');
  },
};
