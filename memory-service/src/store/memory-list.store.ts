import type { PermissionName } from '../domain/memory.model.js';
import { fromRaw, type MemoryRow, type MemoryStore, type RawRow } from './memory.store.js';
import { explainPlan } from './explain.js';
import { whereListableBy, type ExpiredFilter, type Viewer } from './visibility.js';

export type SortField = 'created_at' | 'updated_at' | 'expiration_date';
export type SortOrder = 'asc' | 'desc';

export interface ListFilter {
  userId?: string;
  permission?: PermissionName;
  tags: string[];
  expired: ExpiredFilter;
  createdAfter?: Date;
  createdBefore?: Date;
}

export interface ListPosition {
  key: string;
  id: string;
}

/**
 * The sort key as one non-null expression so the keyset comparison stays a plain row comparison:
 * memories without an expiration date sort as if they expired at infinity (last in ascending order).
 */
const SORT_EXPR: Record<SortField, string> = {
  created_at: 'm.created_at',
  updated_at: 'm.updated_at',
  expiration_date: "COALESCE(m.expiration_date, 'infinity'::timestamptz)",
};

/** A listed row with its keyset position. */
export type ListedRow = MemoryRow & { sortKey: string };

/** Keyset-paged listing of what a viewer may see (GetMemories). */
export async function listVisible(...args: Parameters<typeof listQuery>): Promise<ListedRow[]> {
  const rows = (await listQuery(...args)) as (RawRow & { sort_key: string })[];
  return rows.map((r) => ({ ...fromRaw(r), sortKey: r.sort_key }));
}

/** The plan `listVisible` runs with (the plan test). */
export function explainListVisible(...args: Parameters<typeof listQuery>): Promise<string> {
  return explainPlan(args[0].knex, listQuery(...args).toSQL());
}

function listQuery(
  store: MemoryStore,
  viewer: Viewer,
  filter: ListFilter,
  sort: { field: SortField; order: SortOrder },
  limit: number,
  after?: ListPosition,
) {
  const knex = store.knex;
  const expr = SORT_EXPR[sort.field];
  const q = store
    .select(knex)
    .select(knex.raw(`(${expr})::text AS sort_key`))
    .where(whereListableBy(viewer, filter.expired, 'm'))
    .orderByRaw(`${expr} ${sort.order}, m.id ${sort.order}`)
    .limit(limit);
  if (filter.userId) q.where('m.user_id', filter.userId);
  if (filter.permission) q.where('m.permission', filter.permission);
  if (filter.tags.length) q.whereRaw('m.tags @> ?::text[]', [filter.tags]);
  if (filter.createdAfter) q.where('m.created_at', '>', filter.createdAfter);
  if (filter.createdBefore) q.where('m.created_at', '<', filter.createdBefore);
  if (after) {
    const op = sort.order === 'asc' ? '>' : '<';
    q.whereRaw(`(${expr}, m.id) ${op} (?::timestamptz, ?::uuid)`, [after.key, after.id]);
  }
  return q;
}
