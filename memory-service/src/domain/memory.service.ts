import { setTimeout as delay } from 'node:timers/promises';
import {
  assertUuid,
  DomainError,
  forbidden,
  invalid,
  newId,
  notFound,
  type Caller,
  type Logger,
} from '@picard/service-kit';
import { MEMORY_LIMITS, type memoryPb } from '@picard/proto';
import type { Embeddings } from '../clients/embedding.client.js';
import { decodeCursor, decodeListCursor, encodeCursor, encodeListCursor } from '../store/cursor.js';
import { listVisible, type SortField, type SortOrder } from '../store/memory-list.store.js';
import type {
  LockedMemory,
  MemoryCandidate,
  MemoryRow,
  MemoryStore,
  NewMemoryRow,
  SearchFilter,
} from '../store/memory.store.js';
import { canSee, type Shares, type VisibilityFacts } from '../store/visibility.js';
import type { KeywordStore } from '../store/keyword.store.js';
import { fuse, type FusionOptions } from './hybrid-ranking.js';
import type { KeywordHasher } from './keyword-hasher.js';
import type { MemoryCipher } from './memory-cipher.js';
import { createdEvent, deletedEvent } from './memory-events.js';
import { revealRow } from './memory-reveal.js';
import type {
  ListMemoriesInput,
  MemoryRecord,
  ModifyPermissionsInput,
  NewMemoryInput,
  Page,
  QueryMemoryInput,
  SearchModeName,
} from './memory.model.js';
import {
  checkExpiration,
  checkLimit,
  checkNewMemory,
  checkPermission,
  checkShareableGroups,
  checkTags,
  checkText,
  requireScope,
  SCOPE_READ,
  SCOPE_WRITE,
  type CheckedNewMemory,
} from './memory.validation.js';

export interface MemoryServiceDeps {
  store: MemoryStore;
  cipher: MemoryCipher;
  embeddings: Embeddings;
  /** The groups a user owns or belongs to: whom they may share with, and who sees group shares. */
  groupsOf: (userId: string) => Promise<string[]>;
  /** Counts searches and last activity per user (best effort, off the request path). */
  activity?: { searched(userId: string): void; active(userId: string): void };
  logger: Logger;
  maxTextChars: number;
  /** pgvector >= 0.8: filtered HNSW scans continue until enough rows pass. */
  iterativeScan: boolean;
  /** HNSW candidate list size (hnsw.ef_search): recall against latency, see bench/results/scale-*. */
  efSearch: number;
  /** Called after a write committed, so the outbox relay publishes without waiting for its timer. */
  onCommitted?: () => void;
  /** The blind keyword index: blinds terms on write and for queries; corpus statistics for BM25. */
  keywords: { hasher: KeywordHasher; store: KeywordStore };
  /** How hybrid search fuses its two candidate lists. */
  fusion: FusionOptions;
}

/** Hybrid search takes this many times the limit from each index (at least MIN_CANDIDATES) before fusing. */
const HYBRID_CANDIDATES = 3;
const MIN_CANDIDATES = 30;
/**
 * How long a hybrid query's keyword reads wait after the embedding request. They take ~1-2 ms
 * against the embedding's 5 or more; started at once, their JavaScript (hashing the words, building
 * the statements, reading the word counts) ran while the embedding request was still on its way to
 * the model, and delayed it: in one process (embedded mode, or a cluster's services together) a
 * query answered ~0.4 ms later (A/B at 100,000 memories, one client). A query whose embedding is
 * cached pays up to this much more.
 */
const KEYWORD_READS_AFTER_MS = 1;
/** What a query without a mode (and without the older hybrid flag) uses: measured best, see hybrid-ranking.ts. */
export const DEFAULT_SEARCH_MODE: SearchModeName = 'hybrid';
const SORTS: readonly string[] = ['created_at', 'updated_at', 'expiration_date'];
const since = (t: number) => Math.round((performance.now() - t) * 100) / 100;

/** The memory rules: scopes, validation, encryption, visibility; storage and embeddings injected. */
export class MemoryService {
  constructor(private readonly deps: MemoryServiceDeps) {}

  async submit(caller: Caller, input: NewMemoryInput): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_WRITE);
    const checked = checkNewMemory(input, this.deps.maxTextChars, caller.userId);
    if (checked.sharedWith.groups.length)
      checkShareableGroups(checked.sharedWith.groups, await this.groupsOf(caller.userId));
    const [embedding] = await this.embedOrPending([checked.text]);
    const row = this.newRow(caller, checked, embedding!);
    const created = await this.deps.store.create(row, createdEvent(row));
    this.written(caller);
    return this.reveal(caller, created, new Map([[row.id, checked.sharedWith]]));
  }

  /** The groups a user owns or belongs to: whom they may share with. */
  groupsOf(userId: string): Promise<string[]> {
    return this.deps.groupsOf(userId);
  }

  /** A new memory's rules, for the batch and import paths: `groupIds` are the caller's (groupsOf). */
  checkNew(caller: Caller, input: NewMemoryInput, groupIds: readonly string[]): CheckedNewMemory {
    const checked = checkNewMemory(input, this.deps.maxTextChars, caller.userId);
    checkShareableGroups(checked.sharedWith.groups, groupIds);
    return checked;
  }

  /**
   * Vectors for the texts, in calls of at most `EMBED_BATCH`; when the embedder is unreachable the
   * memories are stored anyway without a vector (embedding_pending) and the retry job fills them in.
   */
  async embedOrPending(texts: string[]): Promise<(number[] | null)[]> {
    try {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += EMBED_BATCH)
        out.push(...(await this.deps.embeddings.embed(texts.slice(i, i + EMBED_BATCH))));
      return out;
    } catch (err) {
      if (!isEmbedderDown(err)) throw err;
      this.deps.logger.warn(
        { err: err.message, count: texts.length },
        'embedder unavailable: storing memories as pending',
      );
      return texts.map(() => null);
    }
  }

  newRow(caller: Caller, checked: CheckedNewMemory, embedding: number[] | null): NewMemoryRow {
    const id = newId();
    return {
      id,
      userId: caller.userId,
      sealed: this.deps.cipher.seal(id, caller.userId, checked.text),
      permission: checked.permission,
      expirationDate: checked.expirationDate,
      tags: checked.tags,
      embedding,
      embeddingModel: embedding ? this.deps.embeddings.info.model : null,
      sharedWith: checked.sharedWith,
      keywords: this.deps.keywords.hasher.index(checked.text),
    };
  }

  async retrieve(caller: Caller, req: memoryPb.RetrieveMemoriesRequest): Promise<Page<MemoryRecord>> {
    requireScope(caller, SCOPE_READ);
    const limit = checkLimit(req.limit, MEMORY_LIMITS.retrievePage);
    const after = req.cursor ? decodeCursor(req.cursor) : undefined;
    const rows = await this.deps.store.listOwn(caller.userId, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    this.deps.activity?.active(caller.userId);
    return {
      items: await this.revealAll(caller, page),
      nextCursor:
        rows.length > limit && last ? encodeCursor({ createdKey: last.createdKey, id: last.id }) : undefined,
    };
  }

  async query(
    caller: Caller,
    req: QueryMemoryInput,
  ): Promise<{ items: MemoryRecord[]; timings: memoryPb.QueryTimings }> {
    const started = performance.now();
    requireScope(caller, SCOPE_READ);
    const text = checkText('query', req.query, this.deps.maxTextChars);
    const limit = checkLimit(req.limit, MEMORY_LIMITS.queryPage);
    const filter = checkSearchFilter(req);

    const mode = req.mode !== 'unspecified' ? req.mode : req.hybrid ? 'hybrid' : DEFAULT_SEARCH_MODE;

    const viewer = { userId: caller.userId };
    const fetch = mode === 'hybrid' ? Math.max(limit * HYBRID_CANDIDATES, MIN_CANDIDATES) : limit;
    const byKeyword = async (vector?: number[]) => {
      const { hasher, store } = this.deps.keywords;
      const weighted = await store.weigh(hasher.query(text));
      return this.deps.store.keywordSearch(viewer, weighted, fetch, filter, vector);
    };
    // The keyword candidates need no vector, so they are read while the model embeds the query (in
    // embedded mode the model has its own thread). The embedder is asked first, and the keyword
    // reads start a moment later (KEYWORD_READS_AFTER_MS) so as not to delay the longest step. A
    // similarity floor must hold inside the keyword LIMIT, so with one they wait for the vector.
    let t = performance.now();
    // Keyword mode uses the vector only for each result's similarity: it keeps working (similarity
    // 0) while the embedder is down, like memories stored pending.
    const embedding =
      mode === 'keyword'
        ? this.vectorIfUp(text)
        : this.deps.embeddings.embed([text]).then((vectors) => vectors[0]);
    embedding.catch(() => undefined); // awaited below; a failure meanwhile must not go unhandled
    const early =
      mode === 'vector' || filter.maxDistance !== undefined
        ? undefined
        : mode === 'hybrid'
          ? delay(KEYWORD_READS_AFTER_MS).then(() => byKeyword())
          : byKeyword();
    early?.catch(() => undefined);
    const vector = await embedding;
    const embedMs = since(t);

    t = performance.now();
    const vectorOptions = {
      limit: fetch,
      efSearch: Math.max(this.deps.efSearch, 2 * fetch),
      iterativeScan: this.deps.iterativeScan,
    };
    // With nothing but the vector to rank by (vector mode, or a hybrid query whose words found
    // nothing), the page is the vector ranking's head: one statement reads it whole. The same
    // ef_search as the fused search's, so the page is the same.
    const onlyVector = mode === 'vector' || (mode === 'hybrid' && early && (await early).length === 0);
    let ranked: { id: string; similarity?: number }[];
    let rows: Map<string, MemoryRow>;
    if (onlyVector) {
      const page = await this.deps.store.searchPage(viewer, vector!, { ...vectorOptions, limit }, filter);
      ranked = page.map((r) => ({ id: r.id, similarity: 1 - r.distance }));
      rows = new Map(page.map((r) => [r.id, r]));
    } else {
      const vectorSearch =
        mode === 'keyword'
          ? Promise.resolve([])
          : this.deps.store.search(viewer, vector!, vectorOptions, filter);
      vectorSearch.catch(() => undefined); // awaited below, after the keyword rows
      const keywordRows = await (early ?? byKeyword(vector));
      // Keyword candidates read before the vector existed need their distances. Asked for beside the
      // vector search rather than after it (a statement less on the path; a few rows are looked up twice).
      const earlyDistances =
        early && vector
          ? this.deps.store.distances(
              keywordRows.map((r) => r.id),
              vector,
            )
          : undefined;
      const [vectorRows, distances] = await Promise.all([vectorSearch, earlyDistances]);
      if (distances) for (const r of keywordRows) r.distance = distances.get(r.id);
      const candidates = (found: MemoryCandidate[]) =>
        found.map((r) => ({
          id: r.id,
          similarity: r.distance === undefined ? undefined : 1 - r.distance,
          keywordScore: r.keywordScore,
        }));
      ranked =
        mode === 'keyword'
          ? candidates(keywordRows)
          : fuse(candidates(vectorRows), candidates(keywordRows), this.deps.fusion).slice(0, limit);
      // A hit deleted, unshared or no longer matching the filters since it was ranked is left out.
      rows = new Map(
        (
          await this.deps.store.visibleRows(
            viewer,
            ranked.map((r) => r.id),
            filter,
          )
        ).map((r) => [r.id, r]),
      );
    }
    const searchMs = since(t);

    t = performance.now();
    const shares = new Map<string, Shares>();
    for (const row of rows.values()) if (row.ownerShares) shares.set(row.id, row.ownerShares);
    const items = ranked.flatMap((r) => {
      const row = rows.get(r.id);
      return row ? [{ ...this.reveal(caller, row, shares), similarity: r.similarity ?? 0 }] : [];
    });
    const decryptMs = since(t);
    this.deps.activity?.searched(caller.userId);
    return { items, timings: { embedMs, searchMs, decryptMs, totalMs: since(started) } };
  }

  /** The query's vector, or undefined while the embedder is down (keyword mode needs none). */
  private async vectorIfUp(text: string): Promise<number[] | undefined> {
    try {
      return (await this.deps.embeddings.embed([text]))[0];
    } catch (err) {
      if (!isEmbedderDown(err)) throw err;
      this.deps.logger.warn(
        { err: (err as Error).message },
        'embedder unavailable: keyword results without similarity',
      );
      return undefined;
    }
  }

  async get(caller: Caller, memoryId: string): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_READ);
    const id = assertUuid('memory_id', memoryId);
    const row = await this.deps.store.findVisible({ userId: caller.userId }, id);
    if (!row) throw notFound(`memory ${id} not found`);
    return (await this.revealAll(caller, [row]))[0]!;
  }

  async delete(caller: Caller, memoryId: string): Promise<string> {
    requireScope(caller, SCOPE_WRITE);
    const id = assertUuid('memory_id', memoryId);
    const groupIds = await this.deps.groupsOf(caller.userId);
    await this.deps.store.delete(id, ownerOnly(caller, groupIds, id, 'delete'), (facts) =>
      deletedEvent(id, facts),
    );
    this.written(caller);
    return id;
  }

  async modifyPermissions(caller: Caller, req: ModifyPermissionsInput): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_WRITE);
    const id = assertUuid('memory_id', req.memoryId);
    const checked = checkPermission(req.permission, req.sharedWith, caller.userId);
    const groupIds = await this.deps.groupsOf(caller.userId);
    if (checked.sharedWith.groups.length) checkShareableGroups(checked.sharedWith.groups, groupIds);
    const row = await this.deps.store.change(
      id,
      ownerOnly(caller, groupIds, id, 'change the permissions of'),
      (facts) => ({
        ...checkUnchangedSince(facts, req.expectedUpdatedAt),
        permission: checked.permission,
        sharedWith: checked.sharedWith,
        history: { by: caller.userId, change: 'permissions' },
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
      }),
    );
    this.written(caller);
    return this.reveal(caller, row, new Map([[id, checked.sharedWith]]));
  }

  async update(caller: Caller, req: memoryPb.UpdateMemoryRequest): Promise<MemoryRecord> {
    requireScope(caller, SCOPE_WRITE);
    const id = assertUuid('memory_id', req.memoryId);
    const text = req.text === undefined ? undefined : checkText('text', req.text, this.deps.maxTextChars);
    if (req.expirationDate && req.clearExpirationDate) {
      throw invalid('expiration_date', 'expiration_date and clear_expiration_date are exclusive');
    }
    const expirationDate = req.clearExpirationDate
      ? null
      : req.expirationDate && checkExpiration(req.expirationDate);
    const tags = checkTags(req.tags);
    const groupIds = await this.deps.groupsOf(caller.userId);
    // Embed before opening the transaction; an unreachable embedder leaves the new text pending.
    const embedding = text === undefined ? undefined : (await this.embedOrPending([text]))[0];
    const row = await this.deps.store.change(id, ownerOnly(caller, groupIds, id, 'update'), (facts) => {
      checkUnchangedSince(facts, req.expectedUpdatedAt);
      const merged = req.replaceTags ? tags : [...new Set([...facts.tags, ...tags])];
      if (merged.length > MEMORY_LIMITS.tags)
        throw invalid('tags', `at most ${MEMORY_LIMITS.tags} tags (got ${merged.length} after merging)`);
      return {
        ...(text !== undefined ? this.newText(id, facts.userId, text, embedding!) : {}),
        ...(expirationDate !== undefined ? { expirationDate } : {}),
        ...(req.replaceTags || tags.length ? { tags: merged } : {}),
        history: { by: caller.userId, change: 'update' },
        event: {
          subject: 'memory.updated',
          payload: {
            memory_id: id,
            user_id: facts.userId,
            permission: facts.permission,
            occurred_at: new Date().toISOString(),
          },
        },
      };
    });
    this.written(caller);
    return (await this.revealAll(caller, [row]))[0]!;
  }

  /** What a change writes for a new text: sealed for the owner, its keyword terms and its vector (null: pending). */
  newText(id: string, ownerId: string, text: string, embedding: number[] | null) {
    return {
      sealed: this.deps.cipher.seal(id, ownerId, text),
      keywords: this.deps.keywords.hasher.index(text),
      embedding,
      embeddingModel: embedding ? this.deps.embeddings.info.model : null,
    };
  }

  /** GetMemories: everything the caller may see, filtered, keyset-paged under the requested sort. */
  async list(caller: Caller, req: ListMemoriesInput): Promise<Page<MemoryRecord>> {
    requireScope(caller, SCOPE_READ);
    const sort = req.sort || 'created_at';
    if (!SORTS.includes(sort)) throw invalid('sort', `sort must be one of ${SORTS.join(', ')}`);
    const order = req.order || 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalid('order', 'order must be asc or desc');
    const limit = checkLimit(req.limit, MEMORY_LIMITS.listPage);
    const after = req.cursor ? decodeListCursor(req.cursor, sort, order) : undefined;
    const userId = req.userId === undefined ? undefined : assertUuid('user_id', req.userId);
    const tags = checkTags(req.tags);
    if (req.createdAfter && Number.isNaN(req.createdAfter.getTime()))
      throw invalid('created_after', 'not a valid time');
    if (req.createdBefore && Number.isNaN(req.createdBefore.getTime()))
      throw invalid('created_before', 'not a valid time');
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
    this.deps.activity?.active(caller.userId);
    return {
      items: await this.revealAll(caller, page),
      nextCursor:
        rows.length > limit && last
          ? encodeListCursor(sort, order, { key: last.sortKey, id: last.id })
          : undefined,
    };
  }

  /** Decrypts rows, loading the share lists of the caller's own ones. */
  async revealAll(caller: Caller, rows: MemoryRow[]): Promise<MemoryRecord[]> {
    const owned = rows.filter((r) => r.userId === caller.userId).map((r) => r.id);
    const shares = owned.length ? await this.deps.store.shares(owned) : new Map();
    return rows.map((r) => this.reveal(caller, r, shares));
  }

  written(caller: Caller): void {
    this.deps.onCommitted?.();
    this.deps.activity?.active(caller.userId);
  }

  /** Decrypts one row; `shares` holds the share lists of the caller's own rows. */
  reveal(caller: Caller, row: MemoryRow, shares: Map<string, Shares>): MemoryRecord {
    return revealRow(this.deps.cipher, caller, row, shares);
  }
}

/** Texts per Embed call: the embedding-service's own provider batch. */
export const EMBED_BATCH = 64;

function checkSearchFilter(req: QueryMemoryInput): SearchFilter {
  const min = req.minSimilarity;
  if (min !== undefined && (!Number.isFinite(min) || min < -1 || min > 1)) {
    throw invalid('min_similarity', 'min_similarity must be a number between -1 and 1');
  }
  return {
    userId: req.userId === undefined ? undefined : assertUuid('user_id', req.userId),
    permission: req.permission === 'unspecified' ? undefined : req.permission,
    tags: checkTags(req.tags),
    anyTags: checkTags(req.anyTags, 'any_tags'),
    maxDistance: min === undefined ? undefined : 1 - min,
  };
}

/**
 * Writes are the owner's alone, even on their expired memory; to anyone else an invisible memory
 * does not exist (not_found) and a visible one is refused (permission_denied).
 */
export function ownerRefusal(
  caller: Caller,
  groupIds: readonly string[],
  id: string,
  verb: string,
  facts: VisibilityFacts | undefined,
) {
  if (facts?.userId === caller.userId) return undefined;
  if (!facts || !canSee({ userId: caller.userId, groupIds }, facts))
    return notFound(`memory ${id} not found`);
  return forbidden(`only the owner may ${verb} a memory`);
}

/**
 * Optimistic concurrency: a client that read the memory at `expected` refuses to overwrite a change
 * it has not seen. Checked on the locked row, after the owner check (a stranger learns nothing).
 */
export function checkUnchangedSince(facts: LockedMemory, expected: Date | undefined): Record<string, never> {
  if (expected && facts.updatedAt.getTime() !== expected.getTime()) {
    throw new DomainError(
      'conflict',
      `the memory was changed at ${facts.updatedAt.toISOString()}, after expected_updated_at ${expected.toISOString()}: read it again and retry`,
      'expected_updated_at',
    );
  }
  return {};
}

export function ownerOnly(caller: Caller, groupIds: readonly string[], id: string, verb: string) {
  return (facts: VisibilityFacts | undefined) => {
    const refusal = ownerRefusal(caller, groupIds, id, verb, facts);
    if (refusal) throw refusal;
  };
}

/** The embedder did not answer (down, restarting, overloaded), as opposed to refusing the input. */
function isEmbedderDown(err: unknown): err is DomainError {
  return err instanceof DomainError && (err.code === 'unavailable' || err.code === 'deadline_exceeded');
}
