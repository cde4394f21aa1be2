import type { Knex, Migration } from '@picard/service-kit';

/**
 * Issue #11: token cut-offs (revocations that outlive a gateway restart and need no token id),
 * service principals, and what the dynamic-registration quota and metadata-client clean-up read.
 */
export const securityHardening: Migration = {
  name: '006_security_hardening',
  async up(knex: Knex) {
    // "Access tokens issued at or before cutoff_at matching every non-null column are invalid".
    // No foreign keys: the cut-off of a deleted client or user must outlive the row.
    await knex.schema.createTable('token_cutoffs', (t) => {
      t.bigIncrements('id').primary();
      t.uuid('user_id').nullable().index();
      // The client as access tokens name it (a UUID, or a metadata-document URL).
      t.text('client_id').nullable();
      t.uuid('family_id').nullable();
      t.timestamp('cutoff_at', { useTz: true }).notNullable();
      // cutoff_at plus the access-token lifetime: after it no token it matches can still be valid.
      t.timestamp('expires_at', { useTz: true }).notNullable().index();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });

    await knex.schema.alterTable('clients', (t) => {
      t.boolean('service_principal').notNullable().defaultTo(false);
      // Dynamic registration: who asked (an IP, IPv6 by /64), for the per-source quota.
      t.text('registered_from').nullable();
      // Metadata-document clients: the last time their URL was presented (clean-up of unused rows).
      t.timestamp('last_used_at', { useTz: true }).nullable();
      t.index(['registered_from', 'created_at']);
    });
    await knex('clients').whereNotNull('metadata_url').update({ last_used_at: knex.fn.now() });

    // A direct-connect user created by a client gets a consent row like a user who approved it, so the
    // scope it may mint is the consented one and the user can withdraw it.
    await knex.raw(`
      INSERT INTO consents (user_id, client_id, scope)
      SELECT u.id, c.client_id,
             coalesce((SELECT string_agg(s, ' ') FROM jsonb_array_elements_text(c.scopes) s WHERE s <> 'memories:admin'), '')
        FROM users u JOIN clients c ON c.client_id = u.created_by_client_id
      ON CONFLICT (user_id, client_id) DO NOTHING`);
  },
};
