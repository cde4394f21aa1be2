import { toSql } from 'pgvector/knex';
import type { Knex } from '@picard/service-kit';
import type { SealedText } from '../domain/memory-cipher.js';

export interface PendingRow {
  id: string;
  sealed: SealedText;
}

/** Memories stored without a vector (the embedder was down when they were written). */
export class PendingEmbeddingStore {
  constructor(readonly knex: Knex) {}

  async next(limit: number, afterId?: string): Promise<PendingRow[]> {
    const q = this.knex('memories')
      .select('id', 'ciphertext', 'iv', 'auth_tag', 'key_id')
      .whereNull('embedding')
      .orderBy('id')
      .limit(limit);
    if (afterId) q.where('id', '>', afterId);
    const rows: {
      id: string;
      ciphertext: Uint8Array;
      iv: Uint8Array;
      auth_tag: Uint8Array;
      key_id: string;
    }[] = await q;
    return rows.map((r) => ({
      id: r.id,
      sealed: {
        ciphertext: Buffer.from(r.ciphertext),
        iv: Buffer.from(r.iv),
        authTag: Buffer.from(r.auth_tag),
        keyId: r.key_id,
      },
    }));
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
