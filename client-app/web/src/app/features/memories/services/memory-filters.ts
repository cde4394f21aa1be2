import type { Permission } from '@contract/bff-api';
import type { MemoryQuery } from './memories.service';

export interface MemoryFilters {
  permission: Permission | '';
  tags: string[];
  /** date inputs' values ("YYYY-MM-DD", local), '' for none. */
  createdAfter: string;
  createdBefore: string;
  expired: 'exclude' | 'include' | 'only';
  owner: 'me' | 'anyone';
  sort: 'created_at' | 'updated_at' | 'expiration_date';
  order: 'asc' | 'desc';
}

export const DEFAULT_FILTERS: MemoryFilters = {
  permission: '',
  tags: [],
  createdAfter: '',
  createdBefore: '',
  expired: 'exclude',
  owner: 'anyone',
  sort: 'created_at',
  order: 'desc',
};

export const PAGE_SIZE = 20;

/** The filters as get_memories' input; "created before" a day includes that whole day. */
export function toMemoryQuery(f: MemoryFilters, myUserId: string | undefined, cursor?: string): MemoryQuery {
  const q: MemoryQuery = { expired: f.expired, sort: f.sort, order: f.order, limit: PAGE_SIZE };
  if (f.permission) q.permission = f.permission;
  if (f.tags.length) q.tags = [...f.tags];
  if (f.createdAfter) q.created_after = new Date(`${f.createdAfter}T00:00:00`).toISOString();
  if (f.createdBefore) {
    const end = new Date(`${f.createdBefore}T00:00:00`);
    end.setDate(end.getDate() + 1);
    q.created_before = end.toISOString();
  }
  if (f.owner === 'me' && myUserId) q.user_id = myUserId;
  if (cursor) q.cursor = cursor;
  return q;
}
