import type { Knex } from '@picard/service-kit';
import type { SealedText } from '../domain/memory-cipher.js';
import { CURRENT_AAD_VERSION } from '../domain/memory-cipher.js';
import { SEALED_COLUMNS, sealedColumns, sealedFrom, type SealedColumns } from './sealed-rows.js';

const stale = (q: Knex.QueryBuilder, keyId: string) =>
  q.where((w) => w.whereNot('key_id', keyId).orWhere('aad_version', '<', CURRENT_AAD_VERSION));

/**
 * The tables holding sealed text: memories, and their earlier versions (history), whose ciphertext
 * is the memory's as it was, bound to the memory's id (`aadId`). Both are keyed by a uuid `id`.
 */
export const SEALED_TABLES = [
  { table: 'memories', aadId: 'id' },
  { table: 'memory_versions', aadId: 'memory_id' },
] as const;

export type SealedTable = (typeof SEALED_TABLES)[number]['table'];

export interface SealedRow {
  /** The row's key (a memory's id, or a history row's own id). */
  id: string;
  /** The memory whose id the ciphertext's AAD binds. */
  memoryId: string;
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

/** SQL for the key-rotation job: reads and rewrites only the sealed-text columns, of memories and their history. */
export class KeyRotationStore {
  constructor(readonly knex: Knex) {}

  /** Rows not yet sealed under `keyId`, or with an AAD older than the current one (owner not bound), in all sealed tables. */
  async countStale(keyId: string): Promise<number> {
    let n = 0;
    for (const { table } of SEALED_TABLES) {
      const [row] = await stale(this.knex(table), keyId).count<{ n: string }[]>({ n: '*' });
      n += Number(row?.n ?? 0);
    }
    return n;
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
    table: SealedTable = 'memories',
  ): Promise<RotationBatch> {
    const { aadId } = SEALED_TABLES.find((t) => t.table === table)!;
    return this.knex.transaction(async (trx) => {
      const q = stale(trx(table), keyId)
        .select('id', trx.raw('?? AS aad_id', [aadId]), ...SEALED_COLUMNS)
        .orderBy('id')
        .limit(Math.trunc(limit))
        .forUpdate()
        .skipLocked();
      if (after) q.where('id', '>', after);
      const rows: (SealedColumns & { id: string; aad_id: string })[] = await q;
      const failedIds: string[] = [];
      let rewritten = 0;
      for (const r of rows) {
        const sealed = reseal({ id: r.id, memoryId: r.aad_id, sealed: sealedFrom(r) });
        if (!sealed) {
          failedIds.push(r.id);
          continue;
        }
        await trx(table)
          .where({ id: r.id, key_id: r.key_id, aad_version: r.aad_version })
          .update(sealedColumns(sealed));
        rewritten++;
      }
      return { seen: rows.length, rewritten, failedIds, lastId: rows.at(-1)?.id };
    });
  }
}
