import { createHash } from 'node:crypto';
import { DomainError, invalid, type Caller } from '@picard/service-kit';
import type { ImportBatchStore } from '../store/import-batch.store.js';
import type { MemoryHistoryStore } from '../store/memory-history.store.js';
import type { MemoryStore } from '../store/memory.store.js';
import type { MemoryHistoryService } from './memory-history.service.js';
import { createdEvent } from './memory-events.js';
import type { MemoryService } from './memory.service.js';
import type { ItemError } from './memory.model.js';
import { requireScope, SCOPE_READ, SCOPE_WRITE } from './memory.validation.js';
import {
  checkEach,
  checkFormat,
  EXPORT_FORMATS,
  exportMemories,
  MAX_IMPORT_CHARS,
  MAX_IMPORT_ITEMS,
  parseImport,
  type ExportRecord,
} from './transfer/index.js';

/** Memories per import transaction (and per progress message). */
export const IMPORT_BATCH = 100;
/** Rows read per page while exporting. */
const EXPORT_PAGE = 1000;
/** Memories whose history is read per statement while exporting with include_history. */
const HISTORY_CHUNK = 500;

export interface ImportProgress {
  imported: number;
  total: number;
  done: boolean;
  errors: ItemError[];
}

/**
 * Export of the caller's own live memories and import of a file into them. Both take the same caps
 * (MAX_IMPORT_ITEMS memories, MAX_IMPORT_CHARS of text), so every export can be imported again.
 * An import is checked whole before anything is written (one bad memory → nothing stored, every
 * bad one named), then written in batches, each its own transaction, reporting progress after each.
 * An import with an id can be retried after a fault: batches already written under that id are
 * skipped (see import-batch.store.ts), so a retry completes it without writing anything twice.
 * An export may include each memory's earlier versions (include_history); an import ignores them:
 * the imported memory starts a history of its own, at version 1, under its new id.
 */
export class TransferService {
  constructor(
    private readonly memories: MemoryService,
    private readonly store: MemoryStore,
    private readonly importBatches: ImportBatchStore,
    private readonly history: { store: MemoryHistoryStore; service: MemoryHistoryService },
  ) {}

  async export(
    caller: Caller,
    format: string,
    includeHistory = false,
  ): Promise<{ format: string; count: number; data: string }> {
    requireScope(caller, SCOPE_READ);
    const checkedFormat = checkFormat(format, EXPORT_FORMATS);
    const records: ExportRecord[] = [];
    let after: { createdKey: string; id: string } | undefined;
    for (;;) {
      const rows = await this.store.listOwn(caller.userId, EXPORT_PAGE, after);
      records.push(...(await this.memories.revealAll(caller, rows)));
      if (records.length > MAX_IMPORT_ITEMS) {
        throw new DomainError(
          'unprocessable',
          `more than ${MAX_IMPORT_ITEMS} memories: too many for one export file (import_memories takes at most ${MAX_IMPORT_ITEMS})`,
        );
      }
      if (rows.length < EXPORT_PAGE) break;
      const last = rows.at(-1)!;
      after = { createdKey: last.createdKey, id: last.id };
    }
    if (includeHistory) await this.addHistory(records);
    // Oldest first reads naturally in a file and re-imports in the original order.
    const data = exportMemories(checkedFormat, records.reverse(), includeHistory);
    // An export is a file import_memories must be able to read back: the same caps, or no file.
    if (data.length > MAX_IMPORT_CHARS) {
      throw new DomainError(
        'unprocessable',
        `the export would be ${data.length} characters (${(data.length / 1048576).toFixed(1)} MiB), more than ` +
          `import_memories accepts in one file (${MAX_IMPORT_CHARS} characters, 8 MiB)`,
      );
    }
    return { format: checkedFormat, count: records.length, data };
  }

  /**
   * Gives each record its earlier versions (they are all the caller's: records are their own
   * memories). Stops as soon as the texts alone pass the export's cap rather than decrypting on.
   */
  private async addHistory(records: ExportRecord[]): Promise<void> {
    let chars = records.reduce((n, r) => n + r.text.length, 0);
    for (let i = 0; i < records.length; i += HISTORY_CHUNK) {
      const chunk = records.slice(i, i + HISTORY_CHUNK);
      const versions = await this.history.store.ofMemories(chunk.map((r) => r.id));
      for (const r of chunk) {
        r.history = (versions.get(r.id) ?? []).map((v) => this.history.service.reveal(v));
        chars += r.history.reduce((n, v) => n + v.text.length, 0);
      }
      if (chars > MAX_IMPORT_CHARS) {
        throw new DomainError(
          'unprocessable',
          `with their history your memories hold more than ${MAX_IMPORT_CHARS} characters of text (8 MiB), ` +
            'more than one export file takes: export without include_history',
        );
      }
    }
  }

  async *import(caller: Caller, format: string, data: string, importId = ''): AsyncGenerator<ImportProgress> {
    requireScope(caller, SCOPE_WRITE);
    checkImportId(importId);
    const parsed = parseImport(format, data, {});
    const groupIds = parsed.items.some((i) => i.sharedWith.groups.length)
      ? await this.memories.groupsOf(caller.userId)
      : [];
    const checked = checkEach(parsed.items, (item) => {
      const c = this.memories.checkNew(caller, item, groupIds);
      if (item.createdAt && item.createdAt.getTime() > Date.now() + 60_000)
        throw invalid('created_at', 'created_at is in the future');
      return c;
    });
    const total = parsed.items.length + new Set(parsed.errors.map((e) => e.index)).size;
    const errors = [...parsed.errors, ...checked.errors].sort((a, b) => a.index - b.index);
    if (errors.length) {
      yield { imported: 0, total, done: true, errors };
      return;
    }
    if (total === 0) throw invalid('data', 'the file holds no memories');

    const fileDigest = createHash('sha256').update(format).update('\0').update(data).digest('base64url');
    const done = importId ? await this.writtenBatches(caller, importId, fileDigest) : new Set<number>();
    let imported = 0;
    for (const first of done) imported += Math.min(IMPORT_BATCH, checked.valid.length - first);
    yield { imported, total, done: imported === total, errors: [] };
    for (let i = 0; i < checked.valid.length; i += IMPORT_BATCH) {
      if (done.has(i)) continue;
      const batch = checked.valid.slice(i, i + IMPORT_BATCH);
      const vectors = await this.memories.embedOrPending(batch.map((b) => b.value.text));
      const rows = batch.map((b, j) => ({
        ...this.memories.newRow(caller, b.value, vectors[j]!),
        createdAt: b.item.createdAt,
        updatedAt:
          b.item.updatedAt && b.item.createdAt && b.item.updatedAt >= b.item.createdAt
            ? b.item.updatedAt
            : b.item.createdAt,
      }));
      const mark = importId ? { userId: caller.userId, importId, firstItem: i, fileDigest } : undefined;
      try {
        await this.store.createMany(
          rows.map((row) => ({ row, event: createdEvent(row) })),
          mark,
        );
      } catch (err) {
        // Another attempt of this import (one still finishing after its caller gave up, or running
        // beside this one) recorded this batch first: the same items of the same file, so it is
        // stored, and this attempt's copy rolled back with the record it could not write.
        if (!isBatchAlreadyRecorded(err)) throw err;
      }
      this.memories.written(caller);
      imported += batch.length;
      yield { imported, total, done: imported === total, errors: [] };
    }
  }

  /** First items of the batches already written under `importId`; the id must be this file's. */
  private async writtenBatches(caller: Caller, importId: string, fileDigest: string): Promise<Set<number>> {
    const written = await this.importBatches.written(caller.userId, importId);
    if (written.some((b) => b.fileDigest !== fileDigest))
      throw invalid('import_id', `import ${importId} was started with another file: use a new import_id`);
    return new Set(written.map((b) => b.firstItem));
  }
}

const UNIQUE_VIOLATION = '23505';
const isBatchAlreadyRecorded = (err: unknown) => {
  const e = err as { code?: string; constraint?: string };
  return e.code === UNIQUE_VIOLATION && e.constraint === 'import_batches_pkey';
};
/** Client-chosen (or the gateway's UUID): printable and short, since it is stored and echoed. */
const IMPORT_ID = /^[A-Za-z0-9._:-]{1,100}$/;

function checkImportId(importId: string): void {
  if (importId && !IMPORT_ID.test(importId))
    throw invalid('import_id', 'import_id must be 1-100 letters, digits or . _ : -');
}
