import type { Knex } from '@picard/service-kit';
import type { SealedText } from '../domain/memory-cipher.js';

/** The sealed-text columns of a memories row (and the owner they are bound to), as the driver returns them. */
export interface SealedColumns {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  auth_tag: Uint8Array;
  key_id: string;
  aad_version: number;
  user_id: string;
}

export const SEALED_COLUMNS = ['ciphertext', 'iv', 'auth_tag', 'key_id', 'aad_version', 'user_id'] as const;

export function sealedFrom(r: SealedColumns): SealedText {
  return {
    ciphertext: Buffer.from(r.ciphertext),
    iv: Buffer.from(r.iv),
    authTag: Buffer.from(r.auth_tag),
    keyId: r.key_id,
    ownerId: r.user_id,
    aadVersion: Number(r.aad_version),
  };
}

/** The columns a write of `sealed` sets (the owner is the row's user_id, written by the caller). */
export const sealedColumns = (sealed: SealedText) => ({
  ciphertext: sealed.ciphertext,
  iv: sealed.iv,
  auth_tag: sealed.authTag,
  key_id: sealed.keyId,
  aad_version: sealed.aadVersion,
});

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
    .select('id', ...SEALED_COLUMNS)
    .whereNull(column)
    .orderBy('id')
    .limit(limit);
  if (afterId) q.where('id', '>', afterId);
  const rows: (SealedColumns & { id: string })[] = await q;
  return rows.map((r) => ({ id: r.id, sealed: sealedFrom(r) }));
}
