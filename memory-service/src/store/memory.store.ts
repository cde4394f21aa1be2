import { enqueueEvent, enqueueEvents, type Knex } from '@picard/service-kit';
import type { EventPayload } from '@picard/proto';
import type { PermissionName } from '../domain/memory.model.js';
import type { SealedText } from '../domain/memory-cipher.js';
import type { IndexedTerms } from '../domain/keyword-hasher.js';
import { explainPlan } from './explain.js';
import type { SearchSession } from './search-session.js';
import { runPrepared } from './prepared.js';
import { vectorParam } from './vector-param.js';
import { markImportBatch, type ImportBatchMark } from './import-batch.store.js';
import { archiveVersion, DEFAULT_HISTORY_MAX_VERSIONS, type VersionChange } from './memory-history.store.js';
import { keywordScores, writeKeywords, type WeightedTerms } from './keyword.store.js';
import { SEALED_COLUMNS, sealedColumns, sealedFrom, type SealedColumns } from './sealed-rows.js';
import {
  whereNotExpired,
  whereVisibleTo,
  type Shares,
  type Viewer,
  type VisibilityFacts,
} from './visibility.js';

/** A memories row as read back (text still sealed). */
export interface MemoryRow {
  id: string;
  userId: string;
  sealed: SealedText;
  permission: PermissionName;
  expirationDate: Date | null;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
  embeddingPending: boolean;
  /** Position for keyset paging: created_at at full (microsecond) precision, as text. */
  createdKey: string;
  /** Search hits: the share lists of the viewer's own rows, read with the row. */
  ownerShares?: Shares;
}

/**
 * A search hit before its row is read: what ranking needs (fusion, similarity), not the sealed
 * text. Only the few that make the page are read whole (`visibleRows`).
 */
export interface MemoryCandidate {
  id: string;
  userId: string;
  distance?: number;
  /** Keyword search: BM25 relative to the query's ideal (see keyword.store.ts). */
  keywordScore?: number;
}

interface RawCandidate {
  id: string;
  user_id: string;
  distance?: number | string | null;
  keyword_score?: number | string;
}

function candidateOf(r: RawCandidate): MemoryCandidate {
  return {
    id: r.id,
    userId: r.user_id,
    ...(r.distance !== undefined && r.distance !== null ? { distance: Number(r.distance) } : {}),
    ...(r.keyword_score !== undefined ? { keywordScore: Number(r.keyword_score) } : {}),
  };
}

export interface NewMemoryRow {
  id: string;
  userId: string;
  sealed: SealedText;
  permission: PermissionName;
  expirationDate: Date | null;
  tags: string[];
  /** Null while the memory waits for its vector (the embedder failed at write time). */
  embedding: number[] | null;
  embeddingModel: string | null;
  sharedWith: Shares;
  /** The text's blinded keyword terms. */
  keywords: IndexedTerms;
  /** Kept from an imported file; the database's clock otherwise. */
  createdAt?: Date;
  updatedAt?: Date;
}

/** Narrowing on top of visibility (QueryMemory's filters). */
export interface SearchFilter {
  userId?: string;
  permission?: PermissionName;
  tags?: string[];
  /** At least one of these tags. */
  anyTags?: string[];
  /** Cosine distance cut-off (1 - min_similarity). */
  maxDistance?: number;
}

export interface SearchOptions {
  limit: number;
  efSearch: number;
  iterativeScan: boolean;
}

type MemoryEvent = EventPayload<'memory.created'>;

/** The facts a write decides on, read under a row lock. */
export interface LockedMemory extends VisibilityFacts {
  id: string;
  tags: string[];
  /** Millisecond precision, as the API shows it (each change moves it by at least 1 ms). */
  updatedAt: Date;
  /** The current version's number (1 as created); a change archives it and adds one. */
  version: number;
  /** The current text, read only for a change (it goes to the history as it is). */
  sealed?: SealedText;
}

/** What a change writes; absent fields stay as they are. `sharedWith` replaces all share rows. */
export interface MemoryChange {
  sealed?: SealedText;
  /** Comes with a new text. */
  keywords?: IndexedTerms;
  /** null marks the row pending: its text changed but the embedder was down. */
  embedding?: number[] | null;
  embeddingModel?: string | null;
  permission?: PermissionName;
  expirationDate?: Date | null;
  tags?: string[];
  sharedWith?: Shares;
  /** Who makes the change and which kind: the state it replaces is kept as an earlier version. */
  history: VersionChange;
  event:
    | { subject: 'memory.updated'; payload: EventPayload<'memory.updated'> }
    | { subject: 'memory.permission_changed'; payload: EventPayload<'memory.permission_changed'> };
}

const COLUMNS = [
  'm.id',
  'm.user_id',
  'm.ciphertext',
  'm.iv',
  'm.auth_tag',
  'm.key_id',
  'm.aad_version',
  'm.permission',
  'm.expiration_date',
  'm.tags',
  'm.created_at',
  'm.updated_at',
];

/** What a whole row carries beyond COLUMNS (see RawRow). */
const derivedColumns = (db: Knex | Knex.Transaction) => [
  db.raw('m.embedding IS NULL AS embedding_pending'),
  db.raw('m.created_at::text AS created_key'),
];

export interface RawRow extends SealedColumns {
  id: string;
  user_id: string;
  permission: PermissionName;
  expiration_date: Date | string | null;
  tags: string[] | null;
  created_at: Date | string;
  updated_at: Date | string;
  embedding_pending: boolean;
  created_key: string;
  /** `user:<id>` / `group:<id>`; null on rows the viewer does not own. */
  owner_shares?: string[] | null;
}

const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));

export function fromRaw(r: RawRow): MemoryRow {
  return {
    id: r.id,
    userId: r.user_id,
    sealed: sealedFrom(r),
    permission: r.permission,
    expirationDate: r.expiration_date === null ? null : toDate(r.expiration_date),
    tags: r.tags ?? [],
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    embeddingPending: r.embedding_pending,
    createdKey: r.created_key,
    ...(r.owner_shares ? { ownerShares: sharesFromKeys(r.owner_shares) } : {}),
  };
}

function sharesFromKeys(keys: readonly string[]): Shares {
  const users: string[] = [];
  const groups: string[] = [];
  for (const key of keys) {
    const colon = key.indexOf(':');
    (key.slice(0, colon) === 'user' ? users : groups).push(key.slice(colon + 1));
  }
  return { users, groups };
}

/**
 * The share lists of the viewer's own rows as a column, so the rows of a search's page come with
 * the owner's view in the same statement (other owners' rows get null).
 */
function ownerSharesColumn(db: Knex | Knex.Transaction, viewer: Viewer) {
  return db.raw(
    `CASE WHEN m.user_id = ? THEN ARRAY(SELECT s.principal_type || ':' || s.principal_id FROM memory_shares s WHERE s.memory_id = m.id) END AS owner_shares`,
    [viewer.userId],
  );
}

/**
 * The memories the requests read and write: create, search, change, delete. The SQL of memories
 * lives under store/ only, one file per concern: listing (memory-list.store.ts), keyword postings,
 * and each background job's own store (expiry, pending embeddings, key rotation, re-embedding).
 */
export class MemoryStore {
  /** Told how many rows each committed write touched (planner statistics follow them). */
  onWrite?: (rows: number) => void;

  constructor(
    readonly knex: Knex,
    /**
     * Whether a model change is writing new vectors beside the serving ones (see ReembedStore);
     * the serving embeddings know, so the store asks rather than keeping a copy of its own.
     */
    private readonly reembedding: () => boolean = () => false,
    /** The HNSW settings the connections start with (openDatabase's onConnect); none: every search sets its own. */
    private readonly session?: SearchSession,
    /** MEMORY_HISTORY_MAX_VERSIONS: a change keeps this many earlier versions of its memory. */
    private readonly historyMaxVersions = DEFAULT_HISTORY_MAX_VERSIONS,
  ) {}

  private vectorParam(vector: readonly number[]): Buffer | string {
    return vectorParam(vector, this.session?.nodePostgres ?? false);
  }

  select(db: Knex | Knex.Transaction = this.knex) {
    return db({ m: 'memories' }).select(...COLUMNS, ...derivedColumns(db));
  }

  /** Inserts the row, its shares and the `memory.created` event in one transaction. */
  async create(row: NewMemoryRow, event: MemoryEvent): Promise<MemoryRow> {
    const [created] = await this.createMany([{ row, event }]);
    return created!;
  }

  /**
   * Inserts every row with its shares and events in one transaction: all or nothing. Returns rows in
   * input order. With `importBatch`, the batch is recorded in the same transaction.
   */
  async createMany(
    items: { row: NewMemoryRow; event: MemoryEvent }[],
    importBatch?: ImportBatchMark,
  ): Promise<MemoryRow[]> {
    const created = await this.knex.transaction(async (trx) => {
      if (importBatch) await markImportBatch(trx, importBatch);
      for (const chunk of chunks(items, INSERT_CHUNK)) {
        await trx('memories').insert(
          chunk.map(({ row }) => ({
            id: row.id,
            user_id: row.userId,
            ...sealedColumns(row.sealed),
            permission: row.permission,
            expiration_date: row.expirationDate,
            tags: row.tags,
            embedding: row.embedding ? this.vectorParam(row.embedding) : null,
            embedding_model: row.embeddingModel,
            ...(row.createdAt ? { created_at: row.createdAt } : {}),
            ...((row.updatedAt ?? row.createdAt) ? { updated_at: row.updatedAt ?? row.createdAt } : {}),
          })),
        );
        const shares = chunk.flatMap(({ row }) => shareRows(row.id, row.sharedWith));
        if (shares.length) await trx('memory_shares').insert(shares);
        await writeKeywords(
          trx,
          chunk.map(({ row }) => ({ memoryId: row.id, indexed: row.keywords })),
          true,
        );
        await enqueueEvents(
          trx,
          'memory.created',
          chunk.map(({ event }) => event),
        );
      }
      const ids = items.map((i) => i.row.id);
      const byId = new Map<string, MemoryRow>();
      for (const chunk of chunks(ids, INSERT_CHUNK)) {
        for (const r of (await this.select(trx).whereIn('m.id', chunk)) as RawRow[])
          byId.set(r.id, fromRaw(r));
      }
      return ids.map((id) => byId.get(id)!);
    });
    this.onWrite?.(created.length);
    return created;
  }

  /** The owner's non-expired memories, newest first, after an optional keyset position. */
  async listOwn(
    userId: string,
    limit: number,
    after?: { createdKey: string; id: string },
  ): Promise<MemoryRow[]> {
    const q = this.select()
      .where('m.user_id', userId)
      .where(whereNotExpired('m'))
      .orderBy([
        { column: 'm.created_at', order: 'desc' },
        { column: 'm.id', order: 'desc' },
      ])
      .limit(limit);
    if (after) q.whereRaw('(m.created_at, m.id) < (?::timestamptz, ?::uuid)', [after.createdKey, after.id]);
    return ((await q) as RawRow[]).map(fromRaw);
  }

  async findVisible(viewer: Viewer, id: string): Promise<MemoryRow | undefined> {
    const row = await this.select()
      .where('m.id', id)
      .where(whereVisibleTo(viewer, 'm'))
      .first<RawRow | undefined>();
    return row && fromRaw(row);
  }

  /**
   * Nearest visible memories by cosine distance, in one SQL statement. The HNSW scan is widened
   * (ef_search) and, where pgvector supports it, continued until enough rows pass the visibility
   * filter; relaxed order means the caller re-sorts by distance. Candidates only: a hybrid search
   * fuses three times the page from each index, and reading every candidate's sealed row, dates
   * and shares cost more than the one more statement that reads the page's rows.
   */
  async search(
    viewer: Viewer,
    vector: number[],
    opts: SearchOptions,
    filter: SearchFilter = {},
  ): Promise<MemoryCandidate[]> {
    const rows = (await this.inSearchSession(opts, (db) =>
      this.searchQuery(db, viewer, vector, opts.limit, filter),
    )) as RawCandidate[];
    return rows.map(candidateOf).sort((a, b) => a.distance! - b.distance!);
  }

  /**
   * A whole page by vector in one statement: the nearest visible memories with their rows (the
   * owner's share lists included) and distances, nearest first. For a page that is the vector
   * ranking's head (vector mode, or a hybrid query whose words found nothing), where reading
   * candidates first and their rows after would cost a second statement.
   */
  async searchPage(
    viewer: Viewer,
    vector: number[],
    opts: SearchOptions,
    filter: SearchFilter = {},
  ): Promise<(MemoryRow & { distance: number })[]> {
    const rows = (await this.inSearchSession(opts, (db) =>
      this.pageQuery(db, viewer, vector, opts.limit, filter),
    )) as (RawRow & { distance: number | string })[];
    return rows
      .map((r) => ({ ...fromRaw(r), distance: Number(r.distance) }))
      .sort((a, b) => a.distance - b.distance);
  }

  /**
   * Runs a search statement with `opts`' HNSW settings: on a pooled connection as it is when the
   * session already has them (see search-session.ts), else in a transaction that SETs them LOCAL.
   */
  private async inSearchSession(
    opts: SearchOptions,
    statement: (db: Knex | Knex.Transaction) => Knex.QueryBuilder,
  ): Promise<unknown[]> {
    const sessionFits =
      this.session?.efSearch === opts.efSearch && this.session.iterativeScan === opts.iterativeScan;
    if (sessionFits && this.session?.nodePostgres) return runPrepared(this.knex, statement(this.knex));
    if (sessionFits) return (await statement(this.knex)) as unknown[];
    return this.knex.transaction(async (trx) => {
      await this.tuneSearch(trx, opts);
      return (await statement(trx)) as unknown[];
    });
  }

  /**
   * The rows of search hits, with the owner's share lists, for those still visible to the viewer
   * (one may have been deleted or unshared since it was ranked), in no particular order.
   */
  async visibleRows(viewer: Viewer, ids: readonly string[], filter: SearchFilter = {}): Promise<MemoryRow[]> {
    if (ids.length === 0) return [];
    return ((await this.visibleRowsQuery(viewer, ids, filter)) as RawRow[]).map(fromRaw);
  }

  /** The plan `visibleRows` runs with (the plan test). */
  explainVisibleRows(viewer: Viewer, ids: readonly string[], filter: SearchFilter = {}): Promise<string> {
    return explainPlan(this.knex, this.visibleRowsQuery(viewer, ids, filter).toSQL());
  }

  /**
   * The filters again, as the visibility rule: a memory re-tagged or re-permissioned between the
   * ranking and this read no longer matches. The distance cut stays with the ranking (the vector is
   * not sent again; only a text edit moves it).
   */
  private visibleRowsQuery(viewer: Viewer, ids: readonly string[], filter: SearchFilter) {
    return this.select(this.knex)
      .select(ownerSharesColumn(this.knex, viewer))
      .whereIn('m.id', [...ids])
      .where(whereVisibleTo(viewer, 'm'))
      .where(whereMatches(filter, undefined));
  }

  /** The plan `search` (or with `page`, `searchPage`) runs with, for diagnostics and the plan test. */
  async explainSearch(
    viewer: Viewer,
    vector: number[],
    opts: SearchOptions,
    filter: SearchFilter = {},
    { page = false }: { page?: boolean } = {},
  ): Promise<string> {
    const statement = page ? this.pageQuery.bind(this) : this.searchQuery.bind(this);
    return this.knex.transaction(async (trx) => {
      await this.tuneSearch(trx, opts);
      return explainPlan(trx, statement(trx, viewer, vector, opts.limit, filter).toSQL());
    });
  }

  /** `searchQuery` reading the whole rows (`searchPage`). */
  private pageQuery(
    db: Knex | Knex.Transaction,
    viewer: Viewer,
    vector: number[],
    limit: number,
    filter: SearchFilter,
  ) {
    return this.searchQuery(db, viewer, vector, limit, filter).select(
      ...COLUMNS.filter((c) => c !== 'm.id' && c !== 'm.user_id'),
      ...derivedColumns(db),
      ownerSharesColumn(db, viewer),
    );
  }

  /** SET LOCAL of both settings in one statement: each statement is a round trip (costly in PGlite). */
  private async tuneSearch(trx: Knex.Transaction, opts: SearchOptions) {
    await trx.raw(
      `SELECT set_config('hnsw.ef_search', ?, true)${opts.iterativeScan ? ", set_config('hnsw.iterative_scan', 'relaxed_order', true)" : ''}`,
      [String(Math.trunc(opts.efSearch))],
    );
  }

  /** The statement `search` runs, unrun: public so the scale benchmark measures this very SQL. */
  searchQuery(
    trx: Knex | Knex.Transaction,
    viewer: Viewer,
    vector: number[],
    limit: number,
    filter: SearchFilter,
  ) {
    const q = this.vectorParam(vector);
    // Ordered by the output column, not the expression again: the vector is sent once.
    return trx({ m: 'memories' })
      .select('m.id', 'm.user_id', trx.raw('m.embedding <=> ?::vector AS distance', [q]))
      .whereNotNull('m.embedding')
      .where(whereVisibleTo(viewer, 'm'))
      .where(whereMatches(filter, q))
      .orderBy('distance')
      .limit(limit);
  }

  /**
   * The visible memories sharing terms with the query, best BM25 score first, with their cosine
   * distance to `vector` when one is given (and the memory has one). `weighted`: the query's
   * blinded terms as KeywordStore.weigh gives them (no statement when no word is searchable).
   */
  async keywordSearch(
    viewer: Viewer,
    weighted: WeightedTerms,
    limit: number,
    filter: SearchFilter = {},
    vector?: number[],
  ): Promise<MemoryCandidate[]> {
    if (weighted.terms.length === 0) return [];
    const rows = (await this.keywordQuery(viewer, weighted, limit, filter, vector)) as RawCandidate[];
    return rows.map(candidateOf);
  }

  /** The plan `keywordSearch` runs with (diagnostics, the plan test). */
  async explainKeywordSearch(
    viewer: Viewer,
    weighted: WeightedTerms,
    limit: number,
    filter: SearchFilter = {},
  ): Promise<string> {
    return explainPlan(this.knex, this.keywordQuery(viewer, weighted, limit, filter).toSQL());
  }

  private keywordQuery(
    viewer: Viewer,
    weighted: WeightedTerms,
    limit: number,
    filter: SearchFilter,
    vector?: number[],
  ) {
    const db = this.knex;
    const q = vector ? this.vectorParam(vector) : undefined;
    return db({ m: 'memories' })
      .with('kw', keywordScores(db, weighted, viewer.userId))
      .join('kw', 'kw.memory_id', 'm.id')
      .select('m.id', 'm.user_id', 'kw.score AS keyword_score')
      .select(q ? db.raw('m.embedding <=> ?::vector AS distance', [q]) : db.raw('NULL AS distance'))
      .where(whereVisibleTo(viewer, 'm'))
      .where(whereMatches(filter, q))
      .orderBy([
        { column: 'kw.score', order: 'desc' },
        { column: 'm.id', order: 'asc' },
      ])
      .limit(limit);
  }

  /** Cosine distances of the given memories to `vector` (memories without a vector are left out). */
  async distances(ids: readonly string[], vector: number[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (ids.length === 0) return out;
    const rows: { id: string; distance: number | string }[] = await this.knex('memories')
      .select('id', this.knex.raw('embedding <=> ?::vector AS distance', [this.vectorParam(vector)]))
      .whereIn('id', [...ids])
      .whereNotNull('embedding');
    for (const r of rows) out.set(r.id, Number(r.distance));
    return out;
  }

  /** The plan of the share lookup `shares` runs per chunk of ids. */
  explainShares(ids: string[]): Promise<string> {
    return explainPlan(this.knex, sharesQuery(this.knex, ids).toSQL());
  }

  /** User and group shares per memory, for the owner's view of shared_with. */
  async shares(ids: string[]): Promise<Map<string, Shares>> {
    const out = new Map<string, Shares>();
    for (const chunk of chunks(ids, INSERT_CHUNK)) {
      for (const [id, shares] of await sharesOf(this.knex, chunk)) out.set(id, shares);
    }
    return out;
  }

  /**
   * Deletes a memory and enqueues `memory.deleted` in one transaction. `authorize` sees the row's
   * facts first (or undefined when there is no such row) and throws to refuse.
   */
  async delete(
    id: string,
    authorize: (facts: VisibilityFacts | undefined) => void,
    event: (facts: VisibilityFacts) => EventPayload<'memory.deleted'>,
  ): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const facts = await this.lock(trx, id);
      authorize(facts);
      await trx('memories').where({ id }).delete();
      await enqueueEvent(trx, 'memory.deleted', event(facts!));
    });
    this.onWrite?.(1);
  }

  /**
   * Deletes all of `ids` or none: every row is locked first and `refuse` judges each (undefined facts
   * = no such row); when any is refused nothing is deleted and the refusals come back by index.
   */
  async deleteMany<E>(
    ids: string[],
    refuse: (id: string, facts: VisibilityFacts | undefined) => E | undefined,
    event: (facts: VisibilityFacts & { id: string }) => EventPayload<'memory.deleted'>,
  ): Promise<{ deleted: string[]; refused: { index: number; id: string; error: E }[] }> {
    const result = await this.knex.transaction(async (trx) => {
      const facts = await this.lockMany(trx, ids);
      const refused = ids.flatMap((id, index) => {
        const error = refuse(id, facts.get(id));
        return error === undefined ? [] : [{ index, id, error }];
      });
      if (refused.length) return { deleted: [], refused };
      for (const chunk of chunks(ids, INSERT_CHUNK)) await trx('memories').whereIn('id', chunk).delete();
      await enqueueEvents(
        trx,
        'memory.deleted',
        ids.map((id) => event(facts.get(id)!)),
      );
      return { deleted: ids, refused };
    });
    this.onWrite?.(result.deleted.length);
    return result;
  }

  /**
   * Applies a change decided on the row's locked facts, its share rows and its event in one
   * transaction. `authorize` sees the facts (or undefined when there is no such row) and throws to
   * refuse; `decide` may throw too (e.g. a tag limit reached only after merging), writing nothing.
   */
  async change(
    id: string,
    authorize: (facts: LockedMemory | undefined) => void,
    decide: (facts: LockedMemory) => MemoryChange,
  ): Promise<MemoryRow> {
    const changed = await this.knex.transaction(async (trx) => {
      const facts = (await this.lockMany(trx, [id], { withSealed: true })).get(id);
      authorize(facts);
      const c = decide(facts!);
      await trx('memories')
        .where({ id })
        .update({
          ...(c.sealed ? sealedColumns(c.sealed) : {}),
          // A new text invalidates a new-model vector made from the old one.
          ...(c.sealed && this.reembedding() ? { embedding_next: null } : {}),
          ...(c.embedding !== undefined
            ? {
                embedding: c.embedding && this.vectorParam(c.embedding),
                embedding_model: c.embeddingModel ?? null,
              }
            : {}),
          ...(c.permission ? { permission: c.permission } : {}),
          ...(c.expirationDate !== undefined ? { expiration_date: c.expirationDate } : {}),
          ...(c.tags ? { tags: c.tags } : {}),
          // Strictly later than before at the API's millisecond precision, so an updated_at a
          // client read names one version (expected_updated_at).
          updated_at: trx.raw(
            "greatest(date_trunc('milliseconds', clock_timestamp()), date_trunc('milliseconds', updated_at) + interval '1 millisecond')",
          ),
          version: trx.raw('version + 1'),
        });
      await archiveVersion(trx, versionOf(facts!), facts!.userId, c.history, this.historyMaxVersions);
      if (c.keywords) await writeKeywords(trx, [{ memoryId: id, indexed: c.keywords }]);
      if (c.sharedWith) {
        await trx('memory_shares').where({ memory_id: id }).delete();
        const rows = shareRows(id, c.sharedWith);
        if (rows.length) await trx('memory_shares').insert(rows);
      }
      if (c.event.subject === 'memory.updated') await enqueueEvent(trx, c.event.subject, c.event.payload);
      else await enqueueEvent(trx, c.event.subject, c.event.payload);
      return fromRaw(await this.select(trx).where('m.id', id).first<RawRow>());
    });
    this.onWrite?.(1);
    return changed;
  }

  private async lock(trx: Knex.Transaction, id: string): Promise<LockedMemory | undefined> {
    return (await this.lockMany(trx, [id])).get(id);
  }

  /** A memory's facts (owner, permission, shares, version) read without a lock: who may read its history. */
  async facts(id: string): Promise<LockedMemory | undefined> {
    return (await this.lockMany(this.knex, [id], { noLock: true })).get(id);
  }

  /**
   * Locks the rows (in id order, so concurrent batches cannot deadlock) and reads their facts and
   * shares; `withSealed` reads the sealed text too (a change keeps it in the history).
   */
  private async lockMany(
    trx: Knex | Knex.Transaction,
    ids: string[],
    opts: { withSealed?: boolean; noLock?: boolean } = {},
  ): Promise<Map<string, LockedMemory>> {
    const out = new Map<string, LockedMemory>();
    for (const chunk of chunks([...new Set(ids)].sort(), INSERT_CHUNK)) {
      const query = trx('memories')
        .select(
          'id',
          'user_id',
          'permission',
          'expiration_date',
          'tags',
          'updated_at',
          'version',
          ...(opts.withSealed ? SEALED_COLUMNS.filter((c) => c !== 'user_id') : []),
        )
        .whereIn('id', chunk)
        .orderBy('id');
      if (!opts.noLock) query.forUpdate();
      const rows: (Partial<SealedColumns> & {
        id: string;
        user_id: string;
        permission: PermissionName;
        expiration_date: Date | string | null;
        tags: string[] | null;
        updated_at: Date | string;
        version: number;
      })[] = await query;
      const shares = await sharesOf(trx, chunk);
      for (const row of rows) {
        out.set(row.id, {
          id: row.id,
          userId: row.user_id,
          permission: row.permission,
          expirationDate: row.expiration_date === null ? null : toDate(row.expiration_date),
          sharedWith: shares.get(row.id) ?? { users: [], groups: [] },
          tags: row.tags ?? [],
          updatedAt: toDate(row.updated_at),
          version: Number(row.version),
          ...(opts.withSealed ? { sealed: sealedFrom(row as SealedColumns) } : {}),
        });
      }
    }
    return out;
  }
}

/** The locked state a change replaces, as the history keeps it. */
function versionOf(facts: LockedMemory) {
  return {
    memoryId: facts.id,
    version: facts.version,
    sealed: facts.sealed!,
    permission: facts.permission,
    sharedWith: facts.sharedWith,
    tags: facts.tags,
    expirationDate: facts.expirationDate,
    updatedAt: facts.updatedAt,
  };
}

/** QueryMemory's narrowing filters as a where-clause; the distance cut-off needs the query vector. */
function whereMatches(filter: SearchFilter, vector: Buffer | string | undefined) {
  return (query: Knex.QueryBuilder) => {
    if (filter.userId) query.where('m.user_id', filter.userId);
    if (filter.permission) query.where('m.permission', filter.permission);
    if (filter.tags?.length) query.whereRaw('m.tags @> ?::text[]', [filter.tags]);
    if (filter.anyTags?.length) query.whereRaw('m.tags && ?::text[]', [filter.anyTags]);
    if (filter.maxDistance !== undefined && vector !== undefined)
      query.whereRaw('(m.embedding <=> ?::vector) <= ?', [vector, filter.maxDistance]);
  };
}

/** Rows per INSERT / IN list: well under PostgreSQL's 65,535 bind parameters. */
const INSERT_CHUNK = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The share rows of at most INSERT_CHUNK memories, as user and group lists per memory. */
async function sharesOf(
  db: Knex | Knex.Transaction,
  ids: string[],
): Promise<Map<string, { users: string[]; groups: string[] }>> {
  const out = new Map<string, { users: string[]; groups: string[] }>();
  if (ids.length === 0) return out;
  const rows: { memory_id: string; principal_type: 'user' | 'group'; principal_id: string }[] =
    await sharesQuery(db, ids);
  for (const r of rows) {
    const entry = out.get(r.memory_id) ?? { users: [], groups: [] };
    (r.principal_type === 'user' ? entry.users : entry.groups).push(r.principal_id);
    out.set(r.memory_id, entry);
  }
  return out;
}

function sharesQuery(db: Knex | Knex.Transaction, ids: string[]) {
  return db('memory_shares').select('memory_id', 'principal_type', 'principal_id').whereIn('memory_id', ids);
}

function shareRows(memoryId: string, shares: Shares) {
  return [
    ...shares.users.map((u) => ({ memory_id: memoryId, principal_type: 'user', principal_id: u })),
    ...shares.groups.map((g) => ({ memory_id: memoryId, principal_type: 'group', principal_id: g })),
  ];
}
