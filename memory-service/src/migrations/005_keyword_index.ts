import type { Knex, Migration } from '@picard/service-kit';

/**
 * The blind keyword index (issue #10): per memory, which index key its terms are blinded under
 * and its length in terms; per (term, memory) the term's frequency, with the memory's length
 * repeated so BM25 scores postings without touching the memories table. Terms are 64-bit HMACs
 * (domain/keyword-hasher.ts), never words. Rows cascade away with their memory; memories written
 * before this migration are indexed by KeywordIndexJob.
 */
export const keywordIndex: Migration = {
  name: '005_keyword_index',
  async up(knex: Knex) {
    await knex.schema.createTable('memory_keywords', (t) => {
      t.uuid('memory_id').primary().references('id').inTable('memories').onDelete('CASCADE');
      t.string('key_id', 64).notNullable();
      t.integer('term_count').notNullable();
      t.index(['key_id'], 'memory_keywords_key_idx');
    });
    await knex.schema.createTable('memory_terms', (t) => {
      t.bigInteger('term').notNullable();
      t.uuid('memory_id')
        .notNullable()
        .references('memory_id')
        .inTable('memory_keywords')
        .onDelete('CASCADE');
      t.integer('tf').notNullable();
      t.integer('dl').notNullable();
      t.primary(['term', 'memory_id']);
      t.index(['memory_id'], 'memory_terms_memory_idx');
    });
  },
};
