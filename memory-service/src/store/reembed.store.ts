import { toSql } from 'pgvector/knex';
import type { Knex } from '@picard/service-kit';
import { rowsWithoutVector, type PendingRow } from './sealed-rows.js';

export interface ModelState {
  model: string;
  dimensions: number;
}

const NEXT_INDEX = 'memories_embedding_next_hnsw_idx';
const INDEX = 'memories_embedding_hnsw_idx';

/**
 * The vectors of a model change: new vectors are written beside the serving ones
 * (`embedding_next`, with its own HNSW index) and swapped in at the end in one short transaction.
 */
export class ReembedStore {
  constructor(
    readonly knex: Knex,
    private readonly schema: string,
  ) {}

  /** The serving model; a database from before this table records the model of its vectors (or `fallback`). */
  async servingModel(fallback: ModelState): Promise<ModelState> {
    const row = await this.knex('embedding_state')
      .where({ id: 1 })
      .first<{ model: string; dimensions: number } | undefined>();
    if (row) return { model: row.model, dimensions: Number(row.dimensions) };
    const dimensions = (await this.columnDimensions('embedding')) ?? fallback.dimensions;
    const stored = await this.knex('memories')
      .whereNotNull('embedding_model')
      .first<{ embedding_model: string } | undefined>('embedding_model');
    const state = {
      model: stored?.embedding_model ?? (dimensions === fallback.dimensions ? fallback.model : 'unknown'),
      dimensions,
    };
    await this.knex('embedding_state')
      .insert({ id: 1, ...state })
      .onConflict('id')
      .ignore();
    return state;
  }

  async columnDimensions(column: string): Promise<number | undefined> {
    const res = await this.knex.raw<{ rows: { type: string }[] }>(
      `SELECT format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
        WHERE a.attrelid = to_regclass(?) AND a.attname = ? AND NOT a.attisdropped`,
      [`"${this.schema}".memories`, column],
    );
    const type = res.rows[0]?.type;
    return type ? Number(/^vector\((\d+)\)$/.exec(type)?.[1]) : undefined;
  }

  /**
   * Creates (or recreates, for another width) the column and index the new vectors go to. Two
   * instances starting at once may both run it: every step tolerates the other having done it.
   */
  async prepare(target: ModelState): Promise<void> {
    const found = await this.columnDimensions('embedding_next');
    if (found !== undefined && found !== target.dimensions) {
      await this.knex.raw(
        'ALTER TABLE memories DROP COLUMN IF EXISTS embedding_next, DROP COLUMN IF EXISTS embedding_next_model',
      );
    }
    if (found !== target.dimensions) {
      await this.knex.raw(
        `ALTER TABLE memories ADD COLUMN IF NOT EXISTS embedding_next vector(${Math.trunc(target.dimensions)}), ADD COLUMN IF NOT EXISTS embedding_next_model text`,
      );
      // In the row, as migration 012 keeps `embedding`: this column becomes it at the swap.
      await this.knex.raw('ALTER TABLE memories ALTER COLUMN embedding_next SET STORAGE MAIN');
      await this.knex.raw(
        `CREATE INDEX IF NOT EXISTS ${NEXT_INDEX} ON memories USING hnsw (embedding_next vector_cosine_ops)`,
      );
    }
    // Vectors of a third model left by an earlier, interrupted change are redone.
    await this.knex('memories')
      .whereNot('embedding_next_model', target.model)
      .update({ embedding_next: null, embedding_next_model: null });
  }

  missing(limit: number, afterId?: string, db: Knex | Knex.Transaction = this.knex): Promise<PendingRow[]> {
    return rowsWithoutVector(db, 'embedding_next', limit, afterId);
  }

  /** Stores a new vector if the row still holds the text it was computed from (an edit re-seals under a new IV). */
  async fill(
    id: string,
    iv: Buffer,
    vector: number[],
    model: string,
    db: Knex | Knex.Transaction = this.knex,
  ): Promise<void> {
    await db('memories')
      .where({ id, iv })
      .update({ embedding_next: toSql(vector), embedding_next_model: model });
  }

  async countMissing(db: Knex | Knex.Transaction = this.knex): Promise<number> {
    const rows = (await db('memories').whereNull('embedding_next').count({ n: '*' })) as { n: string }[];
    return Number(rows[0]?.n ?? 0);
  }

  async count(): Promise<number> {
    const rows = (await this.knex('memories').count({ n: '*' })) as { n: string }[];
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Swaps the new vectors in. Writes are blocked for the transaction; `straggle` embeds the rows
   * written since the last batch (it gets them, returns their vectors) so none is left without one.
   */
  async swap(target: ModelState, straggle: (rows: PendingRow[]) => Promise<number[][]>): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx.raw('LOCK TABLE memories IN SHARE ROW EXCLUSIVE MODE');
      const late = await this.missing(10_000, undefined, trx);
      if (late.length) {
        const vectors = await straggle(late);
        for (const [i, row] of late.entries())
          await this.fill(row.id, row.sealed.iv, vectors[i]!, target.model, trx);
      }
      await trx.raw(`DROP INDEX IF EXISTS ${INDEX}`);
      await trx.raw('ALTER TABLE memories DROP COLUMN embedding, DROP COLUMN embedding_model');
      await trx.raw('ALTER TABLE memories RENAME COLUMN embedding_next TO embedding');
      await trx.raw('ALTER TABLE memories RENAME COLUMN embedding_next_model TO embedding_model');
      await trx.raw(`ALTER INDEX ${NEXT_INDEX} RENAME TO ${INDEX}`);
      await trx('embedding_state')
        .insert({ id: 1, ...target, updated_at: trx.fn.now() })
        .onConflict('id')
        .merge();
    });
  }
}
