import { createOutboxTable, type Knex, type Migration } from '@picard/service-kit';

export const init: Migration = {
  name: '001_init',
  async up(knex: Knex) {
    await knex.schema.createTable('users', (t) => {
      t.uuid('id').primary();
      t.string('username', 64).notNullable();
      t.string('email', 254).nullable();
      t.string('display_name', 200).notNullable().defaultTo('');
      // Null for users of the direct-connect flow, who never log in with a password.
      t.text('password_hash').nullable();
      t.boolean('is_admin').notNullable().defaultTo(false);
      t.boolean('active').notNullable().defaultTo(true);
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    // "Alice" and "alice" are one account.
    await knex.raw('CREATE UNIQUE INDEX users_username_lower_idx ON users (lower(username))');

    await knex.schema.createTable('clients', (t) => {
      t.uuid('client_id').primary();
      t.string('secret_hash', 64).notNullable();
      t.string('client_name', 200).notNullable();
      t.jsonb('redirect_uris').notNullable();
      t.jsonb('scopes').notNullable();
      t.jsonb('grant_types').notNullable();
      t.string('token_endpoint_auth_method', 40).notNullable();
      t.boolean('first_party').notNullable().defaultTo(false);
      t.boolean('user_token_flow_enabled').notNullable().defaultTo(false);
      t.uuid('created_by_user_id').nullable().references('id').inTable('users').onDelete('SET NULL');
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });

    await knex.schema.createTable('refresh_tokens', (t) => {
      t.uuid('id').primary();
      t.string('token_hash', 64).notNullable().unique();
      t.uuid('family_id').notNullable().index();
      t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
      t.uuid('client_id').notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
      t.text('scope').notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable();
      t.timestamp('revoked_at', { useTz: true }).nullable();
      t.uuid('replaced_by').nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });

    await knex.schema.createTable('revocations', (t) => {
      t.string('jti', 100).primary();
      t.timestamp('expires_at', { useTz: true }).notNullable().index();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now()).index();
    });

    await knex.schema.createTable('signing_keys', (t) => {
      t.string('kid', 64).primary();
      t.string('alg', 10).notNullable();
      t.jsonb('public_jwk').notNullable();
      t.jsonb('private_jwk').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('retired_at', { useTz: true }).nullable();
    });

    await createOutboxTable(knex);
  },
};
