import type { Knex, Migration } from '@picard/service-kit';

/** Issue #3: authorization codes, consents, public clients, and who created a direct-connect user. */
export const authorization: Migration = {
  name: '002_authorization',
  async up(knex: Knex) {
    await knex.schema.createTable('authorization_codes', (t) => {
      // Only the hash is kept: a database reader cannot redeem a live code.
      t.string('code_hash', 64).primary();
      t.uuid('client_id').notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
      t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
      t.text('redirect_uri').notNullable();
      t.text('scope').notNullable();
      t.text('resource').nullable();
      t.string('code_challenge', 128).notNullable();
      t.string('code_challenge_method', 10).notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable().index();
      t.timestamp('used_at', { useTz: true }).nullable();
      // What the first redemption issued, so that a replay can revoke it (RFC 6749 §4.1.2).
      t.uuid('family_id').nullable();
      t.jsonb('access_tokens').notNullable().defaultTo(knex.raw(`'[]'::jsonb`));
      t.timestamp('replayed_at', { useTz: true }).nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });

    await knex.schema.createTable('consents', (t) => {
      t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
      t.uuid('client_id').notNullable().references('client_id').inTable('clients').onDelete('CASCADE');
      t.text('scope').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['user_id', 'client_id']);
    });

    await knex.schema.alterTable('clients', (t) => {
      // Public clients (token_endpoint_auth_method "none") have no secret at all.
      t.string('secret_hash', 64).nullable().alter();
      t.index(['first_party', 'created_at']);
    });

    await knex.schema.alterTable('users', (t) => {
      t.uuid('created_by_client_id')
        .nullable()
        .references('client_id')
        .inTable('clients')
        .onDelete('SET NULL');
    });

    await knex.schema.alterTable('refresh_tokens', (t) => {
      // The audience (RFC 8707 resource) of the grant, kept through rotations.
      t.text('resource').nullable();
    });
  },
};
