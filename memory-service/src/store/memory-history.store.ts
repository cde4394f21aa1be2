import { newId, type Knex } from '@picard/service-kit';
import type { SealedText } from '../domain/memory-cipher.js';
import type { PermissionName } from '../domain/memory.model.js';
import { sealedColumns, sealedFrom, type SealedColumns } from './sealed-rows.js';
import type { Shares } from './visibility.js';

/** What replaced a version: update_memory, modify_permissions or restore_memory. */
export type HistoryChange = 'update' | 'permissions' | 'restore';

/** The state a change replaces, as the memory's locked row held it (text still sealed). */
export interface VersionSnapshot {
  memoryId: string;
  version: number;
  sealed: SealedText;
  permission: PermissionName;
  sharedWith: Shares;
  tags: string[];
  expirationDate: Date | null;
  updatedAt: Date;
}

/** Who replaced a version, and how. */
export interface VersionChange {
  by: string;
  change: HistoryChange;
  /** A restore names the version it brought back. */
  restoredVersion?: number;
}

/** A memory_versions row as read back. */
export interface VersionRow extends Omit<VersionSnapshot, 'sealed'> {
  sealed: SealedText;
  changedAt: Date;
  changedBy: string;
  change: HistoryChange;
  restoredVersion: number | null;
}

interface RawVersion extends SealedColumns {
  memory_id: string;
  version: number;
  permission: PermissionName;
  shared_users: string[] | null;
  shared_groups: string[] | null;
  tags: string[] | null;
  expiration_date: Date | string | null;
  updated_at: Date | string;
  changed_at: Date | string;
  changed_by: string;
  change: HistoryChange;
  restored_version: number | null;
}

const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));

const COLUMNS = [
  'memory_id',
  'version',
  'user_id',
  'ciphertext',
  'iv',
  'auth_tag',
  'key_id',
  'aad_version',
  'permission',
  'shared_users',
  'shared_groups',
  'tags',
  'expiration_date',
  'updated_at',
  'changed_at',
  'changed_by',
  'change',
  'restored_version',
];

function fromRaw(r: RawVersion): VersionRow {
  return {
    memoryId: r.memory_id,
    version: Number(r.version),
    sealed: sealedFrom(r),
    permission: r.permission,
    sharedWith: { users: r.shared_users ?? [], groups: r.shared_groups ?? [] },
    tags: r.tags ?? [],
    expirationDate: r.expiration_date === null ? null : toDate(r.expiration_date),
    updatedAt: toDate(r.updated_at),
    changedAt: toDate(r.changed_at),
    changedBy: r.changed_by,
    change: r.change,
    restoredVersion: r.restored_version === null ? null : Number(r.restored_version),
  };
}

/** MEMORY_HISTORY_MAX_VERSIONS unless set: the earlier versions kept per memory, newest first. */
export const DEFAULT_HISTORY_MAX_VERSIONS = 100;

/**
 * Keeps `snapshot` as an earlier version, inside the transaction of the change that replaces it
 * (MemoryStore.change, after its UPDATE): `changed_at` is the memory's new updated_at, so the
 * history and the memory agree on when the change happened. The ciphertext is copied as it is:
 * its AAD binds the memory's id and owner, so it opens for that memory's owner only, and a restore
 * puts it back in the very row it came from. Of the earlier versions only the newest `keep` stay,
 * so an often-edited memory's history does not grow without bound.
 */
export async function archiveVersion(
  trx: Knex.Transaction,
  snapshot: VersionSnapshot,
  ownerId: string,
  change: VersionChange,
  keep: number,
): Promise<void> {
  await trx('memory_versions').insert({
    id: newId(),
    memory_id: snapshot.memoryId,
    version: snapshot.version,
    user_id: ownerId,
    ...sealedColumns(snapshot.sealed),
    permission: snapshot.permission,
    shared_users: snapshot.sharedWith.users,
    shared_groups: snapshot.sharedWith.groups,
    tags: snapshot.tags,
    expiration_date: snapshot.expirationDate,
    updated_at: snapshot.updatedAt,
    changed_at: trx.raw('(SELECT updated_at FROM memories WHERE id = ?)', [snapshot.memoryId]),
    changed_by: change.by,
    change: change.change,
    restored_version: change.restoredVersion ?? null,
  });
  // Versions are numbered without gaps, so the newest `keep` are those above version − keep.
  if (snapshot.version > keep)
    await trx('memory_versions')
      .where({ memory_id: snapshot.memoryId })
      .where('version', '<=', snapshot.version - keep)
      .delete();
}

/** Reads of the history; writes happen only through archiveVersion, inside a memory's change. */
export class MemoryHistoryStore {
  constructor(readonly knex: Knex) {}

  /** Up to `limit` versions of a memory below `beforeVersion` (all when absent), newest first. */
  async page(memoryId: string, limit: number, beforeVersion?: number): Promise<VersionRow[]> {
    const q = this.knex('memory_versions')
      .select(...COLUMNS)
      .where({ memory_id: memoryId })
      .orderBy('version', 'desc')
      .limit(limit);
    if (beforeVersion !== undefined) q.where('version', '<', beforeVersion);
    return ((await q) as RawVersion[]).map(fromRaw);
  }

  async find(memoryId: string, version: number): Promise<VersionRow | undefined> {
    const row = (await this.knex('memory_versions')
      .select(...COLUMNS)
      .where({ memory_id: memoryId, version })
      .first()) as RawVersion | undefined;
    return row && fromRaw(row);
  }

  /**
   * Deletes the earlier versions beyond the newest `keep` of every memory: a change prunes its own
   * memory's history, so this only finds work after MEMORY_HISTORY_MAX_VERSIONS was lowered.
   */
  async pruneBeyond(keep: number): Promise<number> {
    return this.knex('memory_versions')
      .whereExists((q) =>
        q
          .select(this.knex.raw('1'))
          .from('memories as m')
          .whereRaw('m.id = memory_versions.memory_id')
          .whereRaw('memory_versions.version < m.version - ?::int', [keep]),
      )
      .del();
  }

  /** Every version of the given memories, newest first per memory (the export). */
  async ofMemories(memoryIds: readonly string[]): Promise<Map<string, VersionRow[]>> {
    const out = new Map<string, VersionRow[]>();
    for (let i = 0; i < memoryIds.length; i += CHUNK) {
      const rows = (await this.knex('memory_versions')
        .select(...COLUMNS)
        .whereIn('memory_id', memoryIds.slice(i, i + CHUNK))
        .orderBy([
          { column: 'memory_id', order: 'asc' },
          { column: 'version', order: 'desc' },
        ])) as RawVersion[];
      for (const r of rows.map(fromRaw)) {
        const list = out.get(r.memoryId) ?? [];
        list.push(r);
        out.set(r.memoryId, list);
      }
    }
    return out;
  }
}

/** Memory ids per IN list: well under PostgreSQL's bind-parameter limit. */
const CHUNK = 500;
