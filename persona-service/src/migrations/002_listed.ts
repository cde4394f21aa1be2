import type { Migration } from '@picard/service-kit';

export const listed: Migration = {
  name: '002_listed',
  async up(knex) {
    await knex.schema.alterTable('personas', (t) => {
      // Opt-in: existing personas stay out of the directory until their owner lists them.
      t.boolean('listed').notNullable().defaultTo(false);
    });
    // The directory's keyset order over listed rows only, so paging never scans unlisted personas.
    await knex.raw('CREATE INDEX personas_listed_name_idx ON personas (display_name, user_id) WHERE listed');
  },
  async down(knex) {
    await knex.raw('DROP INDEX IF EXISTS personas_listed_name_idx');
    await knex.schema.alterTable('personas', (t) => t.dropColumn('listed'));
  },
};
