import type { Knex, Migration } from '@picard/service-kit';

/**
 * Whole rows in the heap, TOAST only for rows that cannot fit a page. A 512-dimension vector is
 * 2,052 bytes, just over PostgreSQL's 2 KB threshold, and above it PostgreSQL shrinks a row towards
 * 2 KB by moving its values out of line: every vector went to the TOAST table, so each distance a
 * search computes from the row (the page's similarities, the keyword hits' distances) cost a TOAST
 * index lookup and two chunk reads (at 20,000 memories the keyword hits' distances took 0.51 ms a
 * query, 0.21 in the row). Storage MAIN alone would keep the vector but move the small values
 * instead (the sealed text, ~30 bytes, then read through TOAST on every page of results), since the
 * row still exceeds 2 KB; a toast_tuple_target of a page leaves a row as it is while it fits one.
 * MAIN still makes the vector the last value to move when a row is larger than a page (a long
 * memory's sealed text goes first), so any row is still stored. pgvector's advice for vectors above 2 KB.
 *
 * Only new and rewritten rows move: this changes the table, not the rows already stored (rewriting
 * them all would lock the table and rebuild the HNSW index during the upgrade). `VACUUM FULL
 * memories` moves the rest at a quiet moment (DEBUGGING.md).
 */
export const inlineVectors: Migration = {
  name: '012_inline_vectors',
  async up(knex: Knex) {
    await knex.raw(`ALTER TABLE memories SET (toast_tuple_target = ${ROW_TARGET_BYTES})`);
    for (const column of await vectorColumns(knex)) {
      await knex.raw('ALTER TABLE memories ALTER COLUMN ?? SET STORAGE MAIN', [column]);
    }
  },
};

/** The largest toast_tuple_target PostgreSQL accepts: what fits an 8 KB page. */
const ROW_TARGET_BYTES = 8160;

/** The table's vector columns: `embedding`, and `embedding_next` while a model change is under way. */
async function vectorColumns(knex: Knex): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: { name: string }[] }>(
    `SELECT a.attname AS name
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = 'memories'::regclass AND t.typname = 'vector' AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  return rows.map((r) => r.name);
}
