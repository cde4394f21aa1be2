import type { Knex } from '@picard/service-kit';

/** One batch of an import, recorded with the memories it wrote. */
export interface ImportBatchMark {
  userId: string;
  importId: string;
  /** The batch's first item's position among the file's memories. */
  firstItem: number;
  fileDigest: string;
}

/**
 * Records the batch inside the transaction that writes its memories. A second attempt writing the
 * same batch at the same time fails here on the primary key, so its memories roll back with it.
 */
export async function markImportBatch(trx: Knex.Transaction, mark: ImportBatchMark): Promise<void> {
  await trx('import_batches').insert({
    user_id: mark.userId,
    import_id: mark.importId,
    first_item: mark.firstItem,
    file_digest: mark.fileDigest,
  });
}

/** SQL over the batches imports have written (see migration 009). */
export class ImportBatchStore {
  constructor(private readonly knex: Knex) {}

  /** The batches already written under this import id, with the digest of the file each came from. */
  async written(userId: string, importId: string): Promise<{ firstItem: number; fileDigest: string }[]> {
    const rows = await this.knex('import_batches')
      .where({ user_id: userId, import_id: importId })
      .select('first_item', 'file_digest');
    return rows.map((r: { first_item: number; file_digest: string }) => ({
      firstItem: r.first_item,
      fileDigest: r.file_digest,
    }));
  }
}
