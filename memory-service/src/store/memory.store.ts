import { toSql } from 'pgvector/knex';
import { enqueueEvent, type Knex } from '@picard/service-kit';
import type { EventPayload } from '@picard/proto';
import type { PermissionName } from '../domain/memory.model.js';
import type { SealedText } from '../domain/memory-cipher.js';
import { whereNotExpired, whereVisibleTo, type Viewer, type VisibilityFacts } from './visibility.js';

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
  distance?: number;
}

export interface NewMemoryRow {
  id: string;
  userId: string;
  sealed: SealedText;
  permission: PermissionName;
  expirationDate: Date | null;
  tags: string[];
  embedding: number[];
  embeddingModel: string;
  sharedWithUsers: string[];
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
}

/** What a change writes; absent fields stay as they are. `sharedWithUsers` replaces the user shares. */
export interface MemoryChange {
  sealed?: SealedText;
  embedding?: number[];
  embeddingModel?: string;
  permission?: PermissionName;
  expirationDate?: Date | null;
  tags?: string[];
  sharedWithUsers?: string[];
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
  'm.permission',
  'm.expiration_date',
  'm.tags',
  'm.created_at',
  'm.updated_at',
];

export interface RawRow {
  id: string;
  user_id: string;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  auth_tag: Uint8Array;
  key_id: string;
  permission: PermissionName;
  expiration_date: Date | string | null;
  tags: string[] | null;
  created_at: Date | string;
  updated_at: Date | string;
  embedding_pending: boolean;
  created_key: string;
  distance?: number | string;
}

const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));

export function fromRaw(r: RawRow): MemoryRow {
  return {
    id: r.id,
    userId: r.user_id,
    sealed: { ciphertext: Buffer.from(r.ciphertext), iv: Buffer.from(r.iv), authTag: Buffer.from(r.auth_tag), keyId: r.key_id },
    permission: r.permission,
    expirationDate: r.expiration_date === null ? null : toDate(r.expiration_date),
    tags: r.tags ?? [],
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    embeddingPending: r.embedding_pending,
    createdKey: r.created_key,
    ...(r.distance !== undefined ? { distance: Number(r.distance) } : {}),
  };
}

/** The only place with SQL for memories. */
export class MemoryStore {
  constructor(readonly knex: Knex) {}

  select(db: Knex | Knex.Transaction = this.knex) {
    return db({ m: 'memories' }).select(
      ...COLUMNS,
      db.raw('m.embedding IS NULL AS embedding_pending'),
      db.raw('m.created_at::text AS created_key'),
    );
  }

  /** Inserts the row, its shares and the `memory.created` event in one transaction. */
  async create(row: NewMemoryRow, event: MemoryEvent): Promise<MemoryRow> {
    return this.knex.transaction(async (trx) => {
      await trx('memories').insert({
        id: row.id,
        user_id: row.userId,
        ciphertext: row.sealed.ciphertext,
        iv: row.sealed.iv,
        auth_tag: row.sealed.authTag,
        key_id: row.sealed.keyId,
        permission: row.permission,
        expiration_date: row.expirationDate,
        tags: row.tags,
        embedding: toSql(row.embedding),
        embedding_model: row.embeddingModel,
      });
      if (row.sharedWithUsers.length) {
        await trx('memory_shares').insert(
          row.sharedWithUsers.map((u) => ({ memory_id: row.id, principal_type: 'user', principal_id: u })),
        );
      }
      await enqueueEvent(trx, 'memory.created', event);
      const created = await this.select(trx).where('m.id', row.id).first<RawRow>();
      return fromRaw(created);
    });
  }

  /** The owner's non-expired memories, newest first, after an optional keyset position. */
  async listOwn(userId: string, limit: number, after?: { createdKey: string; id: string }): Promise<MemoryRow[]> {
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
    const row = await this.select().where('m.id', id).where(whereVisibleTo(viewer, 'm')).first<RawRow | undefined>();
    return row && fromRaw(row);
  }

  /**
   * Nearest visible memories by cosine distance, in one SQL statement. The HNSW scan is widened
   * (ef_search) and, where pgvector supports it, continued until enough rows pass the visibility
   * filter; relaxed order means the caller re-sorts by distance.
   */
  async search(viewer: Viewer, vector: number[], opts: SearchOptions): Promise<MemoryRow[]> {
    return this.knex.transaction(async (trx) => {
      await this.tuneSearch(trx, opts);
      const rows = (await this.searchQuery(trx, viewer, vector, opts.limit)) as RawRow[];
      return rows.map(fromRaw).sort((a, b) => a.distance! - b.distance!);
    });
  }

  /** The plan `search` runs with, for diagnostics and the benchmark. */
  async explainSearch(viewer: Viewer, vector: number[], opts: SearchOptions): Promise<string> {
    return this.knex.transaction(async (trx) => {
      await this.tuneSearch(trx, opts);
      const { sql, bindings } = this.searchQuery(trx, viewer, vector, opts.limit).toSQL();
      const res = await trx.raw<{ rows: Record<string, string>[] }>(`EXPLAIN ${sql}`, bindings);
      return res.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  }

  private async tuneSearch(trx: Knex.Transaction, opts: SearchOptions) {
    await trx.raw(`SET LOCAL hnsw.ef_search = ${Math.trunc(opts.efSearch)}`);
    if (opts.iterativeScan) await trx.raw('SET LOCAL hnsw.iterative_scan = relaxed_order');
  }

  private searchQuery(trx: Knex.Transaction, viewer: Viewer, vector: number[], limit: number) {
    const q = toSql(vector) as string;
    return this.select(trx)
      .select(trx.raw('m.embedding <=> ?::vector AS distance', [q]))
      .whereNotNull('m.embedding')
      .where(whereVisibleTo(viewer, 'm'))
      .orderByRaw('m.embedding <=> ?::vector', [q])
      .limit(limit);
  }

  /** User shares per memory, for the owner's view of shared_with. */
  async sharedUsers(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    const rows: { memory_id: string; principal_id: string }[] = await this.knex('memory_shares')
      .select('memory_id', 'principal_id')
      .whereIn('memory_id', ids)
      .where('principal_type', 'user');
    for (const r of rows) out.set(r.memory_id, [...(out.get(r.memory_id) ?? []), r.principal_id]);
    return out;
  }

  /**
   * Deletes a memory and enqueues `memory.deleted` in one transaction. `authorize` sees the row's
   * facts first (or undefined when there is no such row) and throws to refuse.
   */
  async delete(
    id: string,
    authorize: (facts: VisibilityFacts | undefined) => void,
    event: (facts: VisibilityFacts) => MemoryEvent,
  ): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const facts = await this.lock(trx, id);
      authorize(facts);
      await trx('memories').where({ id }).delete();
      await enqueueEvent(trx, 'memory.deleted', event(facts!));
    });
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
    return this.knex.transaction(async (trx) => {
      const facts = await this.lock(trx, id);
      authorize(facts);
      const c = decide(facts!);
      await trx('memories')
        .where({ id })
        .update({
          ...(c.sealed
            ? { ciphertext: c.sealed.ciphertext, iv: c.sealed.iv, auth_tag: c.sealed.authTag, key_id: c.sealed.keyId }
            : {}),
          ...(c.embedding ? { embedding: toSql(c.embedding), embedding_model: c.embeddingModel } : {}),
          ...(c.permission ? { permission: c.permission } : {}),
          ...(c.expirationDate !== undefined ? { expiration_date: c.expirationDate } : {}),
          ...(c.tags ? { tags: c.tags } : {}),
          updated_at: trx.raw('clock_timestamp()'),
        });
      if (c.sharedWithUsers) {
        await trx('memory_shares').where({ memory_id: id, principal_type: 'user' }).delete();
        if (c.sharedWithUsers.length) {
          await trx('memory_shares').insert(
            c.sharedWithUsers.map((u) => ({ memory_id: id, principal_type: 'user', principal_id: u })),
          );
        }
      }
      if (c.event.subject === 'memory.updated') await enqueueEvent(trx, c.event.subject, c.event.payload);
      else await enqueueEvent(trx, c.event.subject, c.event.payload);
      return fromRaw(await this.select(trx).where('m.id', id).first<RawRow>());
    });
  }

  private async lock(trx: Knex.Transaction, id: string): Promise<LockedMemory | undefined> {
    const row = await trx('memories')
      .select('user_id', 'permission', 'expiration_date', 'tags')
      .where({ id })
      .forUpdate()
      .first<
        { user_id: string; permission: PermissionName; expiration_date: Date | string | null; tags: string[] | null } | undefined
      >();
    if (!row) return undefined;
    const shares = await trx('memory_shares').where({ memory_id: id, principal_type: 'user' }).pluck('principal_id');
    return {
      id,
      userId: row.user_id,
      permission: row.permission,
      expirationDate: row.expiration_date === null ? null : toDate(row.expiration_date),
      sharedWithUsers: shares as string[],
      tags: row.tags ?? [],
    };
  }
}
