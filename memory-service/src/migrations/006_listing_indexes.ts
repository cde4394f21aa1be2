import type { Knex, Migration } from '@picard/service-kit';

/**
 * GetMemories over everything a user may see, newest first: with this index the
 * planner walks the index and stops after a page instead of sorting every visible row (the plan
 * test in test/integration/plans.spec.ts holds it to that at 5,000 memories).
 */
export const listingIndexes: Migration = {
  name: '006_listing_indexes',
  async up(knex: Knex) {
    await knex.schema.alterTable('memories', (t) => {
      // (updated_at, id) exists since 002.
      t.index(['created_at', 'id'], 'memories_created_idx');
    });
  },
};
