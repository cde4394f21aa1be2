import { assertUuid, DomainError, invalid, type Caller } from '@picard/service-kit';
import { MEMORY_LIMITS } from '@picard/proto';
import type { MemoryStore } from '../store/memory.store.js';
import { createdEvent, deletedEvent } from './memory-events.js';
import { ownerRefusal, type MemoryService } from './memory.service.js';
import type { ItemError, MemoryRecord, NewMemoryInput } from './memory.model.js';
import { requireScope, SCOPE_WRITE, type CheckedNewMemory } from './memory.validation.js';

const MAX_BATCH = MEMORY_LIMITS.batch;

export type BatchResult<T> = { ok: true; items: T[] } | { ok: false; errors: ItemError[] };

/**
 * Batch writes, all or nothing: every item is checked first and a single bad one fails the whole
 * batch with an error per bad item (index and field), so a client can fix and resend it unchanged.
 */
export class MemoryBatchService {
  constructor(
    private readonly memories: MemoryService,
    private readonly store: MemoryStore,
  ) {}

  async submitMany(
    caller: Caller,
    inputs: NewMemoryInput[],
    opts: { validateOnly?: boolean } = {},
  ): Promise<BatchResult<MemoryRecord>> {
    requireScope(caller, SCOPE_WRITE);
    checkBatchSize('memories', inputs.length);
    const groupIds = inputs.some((m) => m.sharedWith.groups.length)
      ? await this.memories.groupsOf(caller.userId)
      : [];
    const errors: ItemError[] = [];
    const checked: CheckedNewMemory[] = [];
    inputs.forEach((input, index) => {
      try {
        checked.push(this.memories.checkNew(caller, input, groupIds));
      } catch (err) {
        errors.push(itemError(index, err, `memories[${index}]`));
      }
    });
    if (errors.length) return { ok: false, errors };
    if (opts.validateOnly) return { ok: true, items: [] };

    const vectors = await this.memories.embedOrPending(checked.map((c) => c.text));
    const rows = checked.map((c, i) => this.memories.newRow(caller, c, vectors[i]!));
    const created = await this.store.createMany(rows.map((row) => ({ row, event: createdEvent(row) })));
    this.memories.written(caller);
    const shares = new Map(rows.map((r) => [r.id, r.sharedWith]));
    return { ok: true, items: created.map((row) => this.memories.reveal(caller, row, shares)) };
  }

  async deleteMany(caller: Caller, ids: string[]): Promise<BatchResult<string>> {
    requireScope(caller, SCOPE_WRITE);
    checkBatchSize('memory_ids', ids.length);
    const errors: ItemError[] = [];
    const seen = new Set<string>();
    const checked = ids.flatMap((raw, index) => {
      try {
        const id = assertUuid(`memory_ids[${index}]`, raw);
        if (seen.has(id)) throw invalid(`memory_ids[${index}]`, `memory ${id} is listed twice`);
        seen.add(id);
        return [id];
      } catch (err) {
        errors.push(itemError(index, err, undefined, typeof raw === 'string' ? raw : undefined));
        return [];
      }
    });
    if (errors.length) return { ok: false, errors };

    const groupIds = await this.memories.groupsOf(caller.userId);
    const result = await this.store.deleteMany(
      checked,
      (id, facts) => ownerRefusal(caller, groupIds, id, 'delete', facts),
      (facts) => deletedEvent(facts.id, facts),
    );
    if (result.refused.length) {
      return {
        ok: false,
        errors: result.refused.map((r) => itemError(r.index, r.error, `memory_ids[${r.index}]`, r.id)),
      };
    }
    this.memories.written(caller);
    return { ok: true, items: result.deleted };
  }
}

function checkBatchSize(field: string, n: number) {
  if (n === 0) throw invalid(field, `${field} must list at least one item`);
  if (n > MAX_BATCH) throw invalid(field, `at most ${MAX_BATCH} items per call (got ${n})`);
}

/** A per-item error; field paths are prefixed with the item's place in the batch (memories[3].text). */
function itemError(index: number, err: unknown, prefix?: string, id?: string): ItemError {
  if (!(err instanceof DomainError)) throw err;
  const field =
    err.field && prefix && !err.field.startsWith(prefix) ? `${prefix}.${err.field}` : (err.field ?? prefix);
  return { index, ...(id ? { id } : {}), code: err.code, message: err.message, ...(field ? { field } : {}) };
}
