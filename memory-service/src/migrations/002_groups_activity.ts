import type { Knex, Migration } from '@picard/service-kit';

/** Groups for sharing, per-user activity counters, and indexes for the other two sort orders of GetMemories. */
export const groupsAndActivity: Migration = {
  name: '002_groups_activity',
  async up(knex: Knex) {
    await knex.schema.createTable('groups', (t) => {
      t.uuid('id').primary();
      t.uuid('owner_id').notNullable();
      t.text('name').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.index(['owner_id'], 'groups_owner_idx');
    });
    // Names are unique per owner regardless of case, so "Family" and "family" can't both exist.
    await knex.raw('CREATE UNIQUE INDEX groups_owner_name_uq ON groups (owner_id, lower(name))');
    await knex.schema.createTable('group_members', (t) => {
      t.uuid('group_id').notNullable().references('id').inTable('groups').onDelete('CASCADE');
      t.uuid('user_id').notNullable();
      t.primary(['group_id', 'user_id']);
      t.index(['user_id'], 'group_members_user_idx');
    });
    await knex.schema.createTable('user_activity', (t) => {
      t.uuid('user_id').primary();
      t.bigInteger('searches').notNullable().defaultTo(0);
      t.timestamp('last_activity', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.schema.alterTable('memories', (t) => {
      t.index(['updated_at', 'id'], 'memories_updated_idx');
      t.index(['expiration_date', 'id'], 'memories_expiration_idx');
    });
  },
};
