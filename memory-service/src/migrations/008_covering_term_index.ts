import type { Knex, Migration } from '@picard/service-kit';

/**
 * Keyword scoring reads each posting's tf and dl. With them in the term index, it reads the index
 * alone (an index-only scan) instead of one heap page per posting: at 100,000 memories a word in
 * 5,000 of them cost ~7 ms of heap reads, ~1 ms from the index.
 */
export const coveringTermIndex: Migration = {
  name: '008_covering_term_index',
  async up(knex: Knex) {
    await knex.raw(
      'ALTER TABLE memory_terms DROP CONSTRAINT memory_terms_pkey, ADD CONSTRAINT memory_terms_pkey PRIMARY KEY (term, memory_id) INCLUDE (tf, dl)',
    );
  },
};
