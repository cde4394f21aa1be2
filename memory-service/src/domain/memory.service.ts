import { assertUuid, forbidden, invalid, newId, notFound, type Caller, type Logger } from '@picard/service-kit';
import type { Embeddings } from '../clients/embedding.client.js';
import { decodeCursor, decodeListCursor, encodeCursor, encodeListCursor } from '../store/cursor.js';
import { listVisible, type SortField, type SortOrder } from '../store/memory-list.store.js';
import type { MemoryRow, MemoryStore } from '../store/memory.store.js';
import { canSee, type VisibilityFacts } from '../store/visibility.js';
import type { MemoryCipher } from './memory-cipher.js';
import type { ListMemoriesInput, MemoryRecord, NewMemoryInput, Page, PermissionName, QueryTimings, UpdateMemoryInput } from './memory.model.js';
import {
  checkExpiration,
  checkLimit,
  checkNewMemory,
  checkPermission,
  checkTags,
  checkText,
  MAX_TAGS,
  requireScope,
  SCOPE_READ,
  SCOPE_WRITE,
} from './memory.validation.js';

export interface MemoryServiceDeps {
  store: MemoryStore;
  cipher: MemoryCipher;
  embeddings: Embeddings;
  logger: Logger;
  maxTextChars: number;
  /** pgvector >= 0.8: filtered HNSW scans continue until enough rows pass. */
  iterativeScan: boolean;
  /** Called after a write committed, so the outbox relay publishes without waiting for its timer. */
  onCommitted?: () => void;
}

const RETRIEVE_LIMIT = { fallback: 100, max: 1000 };
const QUERY_LIMIT = { fallback: 10, max: 100 };
const LIST_LIMIT = { fallback: 50, max: 500 };
const SORTS: readonly string[] = ['created_at', 'updated_at', 'expiration_date'];
const since = (t: number) => Math.round((performance.now() - t) * 100) / 100;

/** The memory rules: scopes, validation, encryption, visibility; storage and embeddings injected. */
export class MemoryService {
  constructor(private readonly deps: MemoryServiceDeps) {}

  async submit(caller: Caller, input: NewMemoryInput): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_WRITE);
    const checked = checkNewMemory(input, this.deps.maxTextChars, caller.userId);
    // Embed before opening the transaction: a failing embedder leaves nothing behind.
    const [embedding] = await this.deps.embeddings.embed([checked.text]);
    const id = newId();
    const row = await this.deps.store.create(
      {
        id,
        userId: caller.userId,
        sealed: this.deps.cipher.seal(id, checked.text),
        permission: checked.permission,
        expirationDate: checked.expirationDate,
        tags: checked.tags,
        embedding: embedding!,
        embeddingModel: this.deps.embeddings.info.model,
        sharedWithUsers: checked.sharedWithUsers,
      },
      { memory_id: id, user_id: caller.userId, permission: checked.permission, occurred_at: new Date().toISOString() },
    );
    this.deps.onCommitted?.();
    return this.reveal(caller, row, new Map([[id, checked.sharedWithUsers]]));
  }

  async retrieve(caller: Caller, req: { limit: number; cursor: string }): Promise<Page<MemoryRecord>> {
    requireScope(caller, SCOPE_READ);
    const limit = checkLimit(req.limit, RETRIEVE_LIMIT.fallback, RETRIEVE_LIMIT.max);
    const after = req.cursor ? decodeCursor(req.cursor) : undefined;
    const rows = await this.deps.store.listOwn(caller.userId, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const shares = await this.deps.store.sharedUsers(page.map((r) => r.id));
    return {
      items: page.map((r) => this.reveal(caller, r, shares)),
      nextCursor: rows.length > limit && last ? encodeCursor({ createdKey: last.createdKey, id: last.id }) : undefined,
    };
  }

  async query(caller: Caller, req: { query: string; limit: number }): Promise<{ items: MemoryRecord[]; timings: QueryTimings }> {
    const started = performance.now();
    requireScope(caller, SCOPE_READ);
    const text = checkText('query', req.query, this.deps.maxTextChars);
    const limit = checkLimit(req.limit, QUERY_LIMIT.fallback, QUERY_LIMIT.max);

    let t = performance.now();
    const [vector] = await this.deps.embeddings.embed([text]);
    const embedMs = since(t);

    t = performance.now();
    const rows = await this.deps.store.search({ userId: caller.userId }, vector!, {
      limit,
      efSearch: Math.max(40, 2 * limit),
      iterativeScan: this.deps.iterativeScan,
    });
    const owned = rows.filter((r) => r.userId === caller.userId).map((r) => r.id);
    const shares = await this.deps.store.sharedUsers(owned);
    const searchMs = since(t);

    t = performance.now();
    const items = rows.map((r) => ({ ...this.reveal(caller, r, shares), similarity: 1 - r.distance! }));
    const decryptMs = since(t);
    return { items, timings: { embedMs, searchMs, decryptMs, totalMs: since(started) } };
  }

  async get(caller: Caller, memoryId: string): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_READ);
    const id = assertUuid('memory_id', memoryId);
    const row = await this.deps.store.findVisible({ userId: caller.userId }, id);
    if (!row) throw notFound(`memory ${id} not found`);
    const shares = row.userId === caller.userId ? await this.deps.store.sharedUsers([id]) : new Map();
    return this.reveal(caller, row, shares);
  }

  async delete(caller: Caller, memoryId: string): Promise<string> {
    requireScope(caller, SCOPE_WRITE);
    const id = assertUuid('memory_id', memoryId);
    await this.deps.store.delete(id, ownerOnly(caller, id, 'delete'), (facts) => ({
      memory_id: id,
      user_id: facts.userId,
      permission: facts.permission,
      occurred_at: new Date().toISOString(),
    }));
    this.deps.onCommitted?.();
    return id;
  }

  async modifyPermissions(
    caller: Caller,
    req: { memoryId: string; permission: PermissionName | 'unspecified'; sharedWith: { users: string[]; groups: string[] } },
  ): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_WRITE);
    const id = assertUuid('memory_id', req.memoryId);
    const checked = checkPermission(req.permission, req.sharedWith, caller.userId);
    const row = await this.deps.store.change(id, ownerOnly(caller, id, 'change the permissions of'), (facts) => ({
      permission: checked.permission,
      sharedWithUsers: checked.sharedWithUsers,
      event: {
        subject: 'memory.permission_changed',
        payload: {
          memory_id: id,
          user_id: facts.userId,
          permission: checked.permission,
          previous_permission: facts.permission,
          occurred_at: new Date().toISOString(),
        },
      },
    }));
    this.deps.onCommitted?.();
    return this.reveal(caller, row, new Map([[id, checked.sharedWithUsers]]));
  }

  async update(caller: Caller, req: UpdateMemoryInput): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_WRITE);
    const id = assertUuid('memory_id', req.memoryId);
    const text = req.text === undefined ? undefined : checkText('text', req.text, this.deps.maxTextChars);
    if (req.expirationDate && req.clearExpirationDate) {
      throw invalid('expiration_date', 'expiration_date and clear_expiration_date are exclusive');
    }
    const expirationDate = req.clearExpirationDate ? null : req.expirationDate && checkExpiration(req.expirationDate);
    const tags = checkTags(req.tags);
    // Embed before opening the transaction: a failing embedder leaves the memory as it was.
    const embedding = text === undefined ? undefined : (await this.deps.embeddings.embed([text]))[0];
    const row = await this.deps.store.change(id, ownerOnly(caller, id, 'update'), (facts) => {
      const merged = req.replaceTags ? tags : [...new Set([...facts.tags, ...tags])];
      if (merged.length > MAX_TAGS) throw invalid('tags', `at most ${MAX_TAGS} tags (got ${merged.length} after merging)`);
      return {
        ...(text !== undefined ? { sealed: this.deps.cipher.seal(id, text), embedding, embeddingModel: this.deps.embeddings.info.model } : {}),
        ...(expirationDate !== undefined ? { expirationDate } : {}),
        ...(req.replaceTags || tags.length ? { tags: merged } : {}),
        event: {
          subject: 'memory.updated',
          payload: { memory_id: id, user_id: facts.userId, permission: facts.permission, occurred_at: new Date().toISOString() },
        },
      };
    });
    this.deps.onCommitted?.();
    return this.reveal(caller, row, await this.deps.store.sharedUsers([id]));
  }

  /** GetMemories: everything the caller may see, filtered, keyset-paged under the requested sort. */
  async list(caller: Caller, req: ListMemoriesInput): Promise<Page<MemoryRecord>> {
    requireScope(caller, SCOPE_READ);
    const sort = req.sort || 'created_at';
    if (!SORTS.includes(sort)) throw invalid('sort', `sort must be one of ${SORTS.join(', ')}`);
    const order = req.order || 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalid('order', 'order must be asc or desc');
    const limit = checkLimit(req.limit, LIST_LIMIT.fallback, LIST_LIMIT.max);
    const after = req.cursor ? decodeListCursor(req.cursor, sort, order) : undefined;
    const userId = req.userId === undefined ? undefined : assertUuid('user_id', req.userId);
    const tags = checkTags(req.tags);
    if (req.createdAfter && Number.isNaN(req.createdAfter.getTime())) throw invalid('created_after', 'not a valid time');
    if (req.createdBefore && Number.isNaN(req.createdBefore.getTime())) throw invalid('created_before', 'not a valid time');
    if (req.createdAfter && req.createdBefore && req.createdAfter >= req.createdBefore) {
      throw invalid('created_before', 'created_before must be later than created_after');
    }
    const filter = {
      userId,
      permission: req.permission === 'unspecified' ? undefined : req.permission,
      tags,
      expired: req.expired,
      createdAfter: req.createdAfter,
      createdBefore: req.createdBefore,
    };
    const by = { field: sort as SortField, order: order as SortOrder };
    const rows = await listVisible(this.deps.store, { userId: caller.userId }, filter, by, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const shares = await this.deps.store.sharedUsers(page.filter((r) => r.userId === caller.userId).map((r) => r.id));
    return {
      items: page.map((r) => this.reveal(caller, r, shares)),
      nextCursor: rows.length > limit && last ? encodeListCursor(sort, order, { key: last.sortKey, id: last.id }) : undefined,
    };
  }

  private reveal(caller: Caller, row: MemoryRow, shares: Map<string, string[]>): MemoryRecord {
    return {
      id: row.id,
      userId: row.userId,
      text: this.deps.cipher.open(row.id, row.sealed),
      permission: row.permission,
      expirationDate: row.expirationDate,
      tags: row.tags,
      sharedWith: { users: row.userId === caller.userId ? (shares.get(row.id) ?? []) : [], groups: [] },
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      embeddingPending: row.embeddingPending,
    };
  }
}

/**
 * Writes are the owner's alone, even on their expired memory; to anyone else an invisible memory
 * does not exist (not_found) and a visible one is refused (permission_denied).
 */
function ownerOnly(caller: Caller, id: string, verb: string) {
  return (facts: VisibilityFacts | undefined) => {
    if (facts?.userId === caller.userId) return;
    if (!facts || !canSee({ userId: caller.userId }, facts)) throw notFound(`memory ${id} not found`);
    throw forbidden(`only the owner may ${verb} a memory`);
  };
}
