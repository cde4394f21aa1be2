import type { Knex } from '@picard/service-kit';
import type { SealedText } from '../domain/memory-cipher.js';
import { CURRENT_AAD_VERSION } from '../domain/memory-cipher.js';
import { SEALED_COLUMNS, sealedColumns, sealedFrom, type SealedColumns } from './sealed-rows.js';

const stale = (q: Knex.QueryBuilder, keyId: string) =>
  q.where((w) => w.whereNot('key_id', keyId).orWhere('aad_version', '<', CURRENT_AAD_VERSION));

export interface SealedRow {
  id: string;
  sealed: SealedText;
}

export interface RotationBatch {
  /** Rows looked at in this batch (locked and handed to `reseal`). */
  seen: number;
  rewritten: number;
  /** Rows `reseal` could not open (returned undefined): left as they are. */
  failedIds: string[];
  /** Keyset position for the next batch; undefined when no row was left after `after`. */
  lastId?: string;
}

/** SQL for the key-rotation job: reads and rewrites only the sealed-text columns. */
export class KeyRotationStore {
  constructor(readonly knex: Knex) {}

  /** Rows not yet sealed under `keyId`, or with an AAD older than the current one (owner not bound). */
  async countStale(keyId: string): Promise<number> {
    const [row] = await stale(this.knex('memories'), keyId).count<{ n: string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }

  /**
   * One batch in one transaction: locks up to `limit` stale rows after `after` (keyset by id),
   * reseals them and writes the new ciphertext back. Rows locked by a concurrent write are
   * skipped (SKIP LOCKED) rather than waited for, so users never queue behind the job; a later
   * pass picks them up. updated_at is left alone: re-encryption is not an edit.
   */
  async rotateBatch(
    keyId: string,
    after: string | undefined,
    limit: number,
    reseal: (row: SealedRow) => SealedText | undefined,
  ): Promise<RotationBatch> {
    return this.knex.transaction(async (trx) => {
      const q = stale(trx('memories'), keyId)
        .select('id', ...SEALED_COLUMNS)
        .orderBy('id')
        .limit(Math.trunc(limit))
        .forUpdate()
        .skipLocked();
      if (after) q.where('id', '>', after);
      const rows: (SealedColumns & { id: string })[] = await q;
      const failedIds: string[] = [];
      let rewritten = 0;
      for (const r of rows) {
        const sealed = reseal({ id: r.id, sealed: sealedFrom(r) });
        if (!sealed) {
          failedIds.push(r.id);
          continue;
        }
        await trx('memories')
          .where({ id: r.id, key_id: r.key_id, aad_version: r.aad_version })
          .update(sealedColumns(sealed));
        rewritten++;
      }
      return { seen: rows.length, rewritten, failedIds, lastId: rows.at(-1)?.id };
    });
  }
}
