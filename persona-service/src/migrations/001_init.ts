import { createOutboxTable, type Migration } from '@picard/service-kit';

export const init: Migration = {
  name: '001_init',
  async up(knex) {
    await knex.schema.createTable('personas', (t) => {
      t.uuid('user_id').primary();
      t.string('display_name', 100).notNullable();
      t.string('description', 1000).notNullable();
      t.string('tone', 100).notNullable();
      t.specificType('tags', 'text[]').notNullable();
      // NULL follows the configured LLM_MODEL, so changing the deployment's model reaches every
      // persona that never chose one.
      t.string('model', 100).nullable();
      t.double('temperature').notNullable();
      t.integer('max_tokens').notNullable();
      t.integer('memory_limit').notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await createOutboxTable(knex);
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('outbox');
    await knex.schema.dropTableIfExists('personas');
  },
};
