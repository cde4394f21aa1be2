import { createOutboxTable, type Knex, type Migration } from '@picard/service-kit';

/**
 * The vector column's width follows the embedding model the service talks to, so this migration
 * is built from the dimensions learned at start-up (a later model change is caught by the check in
 * store/schema-check.ts; re-embedding comes with issue #5).
 */
export function init(dimensions: number): Migration {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 16_000) {
    throw new Error(`embedding dimensions must be an integer in 1..16000, got ${dimensions}`);
  }
  return {
    name: '001_init',
    async up(knex: Knex) {
      await knex.schema.createTable('memories', (t) => {
        t.uuid('id').primary();
        t.uuid('user_id').notNullable();
        t.binary('ciphertext').notNullable();
        t.binary('iv').notNullable();
        t.binary('auth_tag').notNullable();
        t.string('key_id', 64).notNullable();
        t.text('permission').notNullable();
        t.timestamp('expiration_date', { useTz: true }).nullable();
        t.specificType('tags', 'text[]').notNullable().defaultTo('{}');
        // Nullable: a row may wait for its vector (the contract's embedding_pending).
        t.specificType('embedding', `vector(${dimensions})`).nullable();
        t.text('embedding_model').nullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.index(['user_id', 'created_at'], 'memories_user_created_idx');
        t.index(['permission'], 'memories_permission_idx');
      });
      await knex.raw(
        "ALTER TABLE memories ADD CONSTRAINT memories_permission_check CHECK (permission IN ('private', 'public', 'shared'))",
      );
      await knex.raw(
        'CREATE INDEX memories_embedding_hnsw_idx ON memories USING hnsw (embedding vector_cosine_ops)',
      );

      // The data model of issue #4 (user and group shares); only user shares are read for now.
      await knex.schema.createTable('memory_shares', (t) => {
        t.uuid('memory_id').notNullable().references('id').inTable('memories').onDelete('CASCADE');
        t.text('principal_type').notNullable();
        t.uuid('principal_id').notNullable();
        t.primary(['memory_id', 'principal_type', 'principal_id']);
        t.index(['principal_type', 'principal_id'], 'memory_shares_principal_idx');
      });
      await knex.raw(
        "ALTER TABLE memory_shares ADD CONSTRAINT memory_shares_type_check CHECK (principal_type IN ('user', 'group'))",
      );
      await createOutboxTable(knex);
    },
  };
}
