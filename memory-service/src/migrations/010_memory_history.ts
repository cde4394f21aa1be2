import type { Knex, Migration } from '@picard/service-kit';

/**
 * The history of every memory (issue #14). `memories.version` numbers the current state (1 as
 * created); each update, permission or share change and restore first copies the state it replaces
 * into `memory_versions`, text still sealed exactly as the memory's row held it (same key, same
 * owner-bound AAD on the memory's id), with who replaced it and when. Deleting a memory, by hand or
 * by the expiry sweeper, deletes its history through the foreign key; the key-rotation job reseals
 * history rows like memory rows (it keys them by `id`).
 */
export const memoryHistory: Migration = {
  name: '010_memory_history',
  async up(knex: Knex) {
    // A constant default: PostgreSQL adds the column without rewriting the table.
    await knex.raw('ALTER TABLE memories ADD COLUMN version integer NOT NULL DEFAULT 1');
    await knex.schema.createTable('memory_versions', (t) => {
      t.uuid('id').primary();
      t.uuid('memory_id').notNullable().references('id').inTable('memories').onDelete('CASCADE');
      t.integer('version').notNullable();
      // The memory's owner: bound into the ciphertext's AAD, as on the memory's row.
      t.uuid('user_id').notNullable();
      t.binary('ciphertext').notNullable();
      t.binary('iv').notNullable();
      t.binary('auth_tag').notNullable();
      t.string('key_id', 64).notNullable();
      t.smallint('aad_version').notNullable();
      t.text('permission').notNullable();
      t.specificType('shared_users', 'uuid[]').notNullable().defaultTo('{}');
      t.specificType('shared_groups', 'uuid[]').notNullable().defaultTo('{}');
      t.specificType('tags', 'text[]').notNullable().defaultTo('{}');
      t.timestamp('expiration_date', { useTz: true }).nullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.timestamp('changed_at', { useTz: true }).notNullable();
      t.uuid('changed_by').notNullable();
      t.text('change').notNullable();
      t.integer('restored_version').nullable();
      // Serves the owner's page (newest first), a restore's lookup and the cascade.
      t.unique(['memory_id', 'version'], { indexName: 'memory_versions_memory_version_key' });
    });
    await knex.raw(
      "ALTER TABLE memory_versions ADD CONSTRAINT memory_versions_change_check CHECK (change IN ('update', 'permissions', 'restore'))",
    );
    await knex.raw(
      "ALTER TABLE memory_versions ADD CONSTRAINT memory_versions_permission_check CHECK (permission IN ('private', 'public', 'shared'))",
    );
  },
};
