import { assertUuid, forbidden, newId, notFound, type Caller, type Logger } from '@picard/service-kit';
import type { Embeddings } from '../clients/embedding.client.js';
import { decodeCursor, encodeCursor } from '../store/cursor.js';
import type { MemoryRow, MemoryStore } from '../store/memory.store.js';
import { canSee, type VisibilityFacts } from '../store/visibility.js';
import type { MemoryCipher } from './memory-cipher.js';
import type { MemoryRecord, NewMemoryInput, Page, QueryTimings } from './memory.model.js';
import { checkLimit, checkNewMemory, checkText, requireScope, SCOPE_READ, SCOPE_WRITE } from './memory.validation.js';

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
const since = (t: number) => Math.round((performance.now() - t) * 100) / 100;

/** The memory rules: scopes, validation, encryption, visibility; storage and embeddings injected. */
export class MemoryService {
  constructor(private readonly deps: MemoryServiceDeps) {}

  async submit(caller: Caller, input: NewMemoryInput): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_WRITE);
    const checked = checkNewMemory(input, this.deps.maxTextChars);
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
        sharedWithUsers: [],
      },
      { memory_id: id, user_id: caller.userId, permission: checked.permission, occurred_at: new Date().toISOString() },
    );
    this.deps.onCommitted?.();
    return this.reveal(caller, row, new Map());
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
    const authorize = (facts: VisibilityFacts | undefined) => {
      // The owner may delete even an expired memory; to anyone else an invisible one does not exist.
      if (facts?.userId === caller.userId) return;
      if (!facts || !canSee({ userId: caller.userId }, facts)) throw notFound(`memory ${id} not found`);
      throw forbidden('only the owner may delete a memory');
    };
    await this.deps.store.delete(id, authorize, (facts) => ({
      memory_id: id,
      user_id: facts.userId,
      permission: facts.permission,
      occurred_at: new Date().toISOString(),
    }));
    this.deps.onCommitted?.();
    return id;
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
