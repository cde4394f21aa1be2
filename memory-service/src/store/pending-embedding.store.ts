import { toSql } from 'pgvector/knex';
import type { Knex } from '@picard/service-kit';
import { rowsWithoutVector, type PendingRow } from './sealed-rows.js';

/** Memories stored without a vector (the embedder was down when they were written). */
export class PendingEmbeddingStore {
  constructor(readonly knex: Knex) {}

  next(limit: number, afterId?: string): Promise<PendingRow[]> {
    return rowsWithoutVector(this.knex, 'embedding', limit, afterId);
  }

  /**
   * Stores the vector only if the row still holds the text it was computed from: an edit in the
   * meantime re-seals the text under a fresh IV, and its own write decides the vector.
   */
  async fill(id: string, iv: Buffer, embedding: number[], model: string): Promise<boolean> {
    const n = await this.knex('memories')
      .where({ id, iv })
      .whereNull('embedding')
      .update({ embedding: toSql(embedding), embedding_model: model });
    return n > 0;
  }

  async count(): Promise<number> {
    const rows = (await this.knex('memories').whereNull('embedding').count({ n: '*' })) as { n: string }[];
    return Number(rows[0]?.n ?? 0);
  }
}
