import type { Knex } from 'knex';

export const initial = {
  name: '001-initial',
  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable('users', (t) => {
      t.uuid('id').primary();
      t.string('username', 64).notNullable();
      t.string('email', 254).notNullable();
      // scrypt$N$r$p$salt$hash; null for accounts that sign in with Picard.
      t.text('password_hash').nullable();
      t.uuid('picard_user_id').notNullable().unique();
      t.string('sign_in', 16).notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('deactivated_at', { useTz: true }).nullable();
    });
    await knex.raw('CREATE UNIQUE INDEX users_username_lower ON users (lower(username))');
    await knex.raw(
      "ALTER TABLE users ADD CONSTRAINT users_sign_in CHECK (sign_in IN ('password', 'picard'))",
    );

    // One row per sign-in (grant): each browser session holds its own refresh-token family.
    await knex.schema.createTable('picard_tokens', (t) => {
      t.uuid('id').primary();
      t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
      t.text('access_token').notNullable(); // AES-256-GCM, AAD = user id
      t.text('refresh_token').notNullable(); // AES-256-GCM, AAD = user id
      t.string('key_id', 32).notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable();
      t.text('scope').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.index(['user_id']);
    });

    // The BFF's own registration at Picard (one row).
    await knex.schema.createTable('picard_client', (t) => {
      t.integer('id').primary();
      t.string('client_id', 200).notNullable();
      t.text('client_secret').notNullable(); // AES-256-GCM, AAD = client id
      t.string('key_id', 32).notNullable();
      t.text('redirect_uri').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });

    // connect-session-knex's shape.
    await knex.schema.createTable('sessions', (t) => {
      t.string('sid').primary();
      t.json('sess').notNullable();
      t.timestamp('expired', { useTz: true }).notNullable().index();
    });

    // rate-limiter-flexible's RateLimiterPostgres shape, one table per limiter.
    for (const table of [
      'throttle_login_user_ip',
      'throttle_login_ip',
      'throttle_login_blocks',
      'throttle_signup_ip',
    ]) {
      await knex.schema.createTable(table, (t) => {
        t.string('key', 255).primary();
        t.integer('points').notNullable().defaultTo(0);
        t.bigInteger('expire').nullable();
      });
    }
  },
};
