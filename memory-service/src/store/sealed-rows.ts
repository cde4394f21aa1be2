import type { Knex } from '@picard/service-kit';
import type { SealedText } from '../domain/memory-cipher.js';

export interface PendingRow {
  id: string;
  sealed: SealedText;
}

/** Rows whose vector `column` is still NULL, in id order after `afterId`, with their sealed text. */
export async function rowsWithoutVector(
  db: Knex | Knex.Transaction,
  column: 'embedding' | 'embedding_next',
  limit: number,
  afterId?: string,
): Promise<PendingRow[]> {
  const q = db('memories')
    .select('id', 'ciphertext', 'iv', 'auth_tag', 'key_id')
    .whereNull(column)
    .orderBy('id')
    .limit(limit);
  if (afterId) q.where('id', '>', afterId);
  const rows: { id: string; ciphertext: Uint8Array; iv: Uint8Array; auth_tag: Uint8Array; key_id: string }[] =
    await q;
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
