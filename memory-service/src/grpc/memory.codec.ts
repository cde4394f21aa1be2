import { memoryPb } from '@picard/proto';
import { invalid } from '@picard/service-kit';
import type {
  ItemError,
  ListMemoriesInput,
  MemoryRecord,
  MemoryVersionRecord,
  ModifyPermissionsInput,
  NewMemoryInput,
  PermissionName,
  QueryMemoryInput,
  SearchModeName,
} from '../domain/memory.model.js';
import type { GroupRow } from '../store/group.store.js';

const { Permission } = memoryPb;

const TO_PB: Record<PermissionName, memoryPb.Permission> = {
  private: Permission.PERMISSION_PRIVATE,
  public: Permission.PERMISSION_PUBLIC,
  shared: Permission.PERMISSION_SHARED,
};

export function permissionFromPb(p: memoryPb.Permission): PermissionName | 'unspecified' {
  switch (p) {
    case Permission.PERMISSION_PRIVATE:
      return 'private';
    case Permission.PERMISSION_PUBLIC:
      return 'public';
    case Permission.PERMISSION_SHARED:
      return 'shared';
    default:
      // UNSPECIFIED and numbers this build does not know (newer clients) alike.
      return 'unspecified';
  }
}

export function newMemoryFromPb(m: memoryPb.NewMemory | undefined): NewMemoryInput {
  return {
    text: m?.text ?? '',
    permission: permissionFromPb(m?.permission ?? Permission.PERMISSION_UNSPECIFIED),
    expirationDate: m?.expirationDate,
    tags: m?.tags ?? [],
    sharedWith: sharedWithFromPb(m?.sharedWith),
  };
}

export function memoryToPb(m: MemoryRecord): memoryPb.Memory {
  return {
    id: m.id,
    userId: m.userId,
    text: m.text,
    permission: TO_PB[m.permission],
    expirationDate: m.expirationDate ?? undefined,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    tags: m.tags,
    sharedWith: { users: m.sharedWith.users, groups: m.sharedWith.groups },
    similarity: m.similarity,
    embeddingPending: m.embeddingPending,
  };
}

const CHANGE_TO_PB: Record<MemoryVersionRecord['change'], memoryPb.HistoryChange> = {
  update: memoryPb.HistoryChange.HISTORY_CHANGE_UPDATE,
  permissions: memoryPb.HistoryChange.HISTORY_CHANGE_PERMISSIONS,
  restore: memoryPb.HistoryChange.HISTORY_CHANGE_RESTORE,
};

export function versionToPb(v: MemoryVersionRecord): memoryPb.MemoryVersion {
  return {
    version: v.version,
    text: v.text,
    permission: TO_PB[v.permission],
    sharedWith: { users: v.sharedWith.users, groups: v.sharedWith.groups },
    tags: v.tags,
    expirationDate: v.expirationDate ?? undefined,
    updatedAt: v.updatedAt,
    changedAt: v.changedAt,
    changedBy: v.changedBy,
    change: CHANGE_TO_PB[v.change],
    restoredVersion: v.restoredVersion ?? undefined,
  };
}

function sharedWithFromPb(s: memoryPb.SharedWith | undefined): { users: string[]; groups: string[] } {
  return { users: s?.users ?? [], groups: s?.groups ?? [] };
}

export function modifyPermissionsFromPb(r: memoryPb.ModifyPermissionsRequest): ModifyPermissionsInput {
  return {
    memoryId: r.memoryId,
    permission: permissionFromPb(r.permission),
    sharedWith: sharedWithFromPb(r.sharedWith),
    expectedUpdatedAt: r.expectedUpdatedAt,
  };
}

const EXPIRED: Record<number, ListMemoriesInput['expired']> = {
  [memoryPb.ExpiredFilter.EXPIRED_FILTER_UNSPECIFIED]: 'exclude',
  [memoryPb.ExpiredFilter.EXPIRED_FILTER_EXCLUDE]: 'exclude',
  [memoryPb.ExpiredFilter.EXPIRED_FILTER_INCLUDE]: 'include',
  [memoryPb.ExpiredFilter.EXPIRED_FILTER_ONLY]: 'only',
};

export function listFromPb(r: memoryPb.GetMemoriesRequest): ListMemoriesInput {
  const expired = EXPIRED[r.expired];
  if (!expired) throw invalid('expired', 'expired must be EXCLUDE, INCLUDE or ONLY');
  return {
    userId: r.userId,
    permission: permissionFilterFromPb(r.permission),
    tags: r.tags,
    expired,
    createdAfter: r.createdAfter,
    createdBefore: r.createdBefore,
    sort: r.sort,
    order: r.order,
    limit: r.limit,
    cursor: r.cursor,
  };
}

/** UNSPECIFIED means "any permission" in a filter; a number this build does not know is refused. */
function permissionFilterFromPb(p: memoryPb.Permission): PermissionName | 'unspecified' {
  const permission = p === Permission.PERMISSION_UNSPECIFIED ? 'unspecified' : permissionFromPb(p);
  if (p !== Permission.PERMISSION_UNSPECIFIED && permission === 'unspecified') {
    throw invalid('permission', 'permission must be PRIVATE, PUBLIC or SHARED when set');
  }
  return permission;
}

export function queryFromPb(r: memoryPb.QueryMemoryRequest): QueryMemoryInput {
  return {
    query: r.query,
    limit: r.limit,
    userId: r.userId,
    permission: permissionFilterFromPb(r.permission),
    tags: r.tags,
    anyTags: r.anyTags,
    minSimilarity: r.minSimilarity,
    mode: searchModeFromPb(r.mode),
    hybrid: r.hybrid,
  };
}

const SEARCH_MODES: Record<number, SearchModeName | 'unspecified'> = {
  [memoryPb.SearchMode.SEARCH_MODE_UNSPECIFIED]: 'unspecified',
  [memoryPb.SearchMode.SEARCH_MODE_VECTOR]: 'vector',
  [memoryPb.SearchMode.SEARCH_MODE_KEYWORD]: 'keyword',
  [memoryPb.SearchMode.SEARCH_MODE_HYBRID]: 'hybrid',
};

function searchModeFromPb(m: memoryPb.SearchMode): SearchModeName | 'unspecified' {
  const mode = SEARCH_MODES[m];
  if (mode === undefined) throw invalid('mode', 'mode must be VECTOR, KEYWORD or HYBRID when set');
  return mode;
}

export function groupToPb(g: GroupRow): memoryPb.Group {
  return { id: g.id, ownerId: g.ownerId, name: g.name, memberIds: g.memberIds, createdAt: g.createdAt };
}

export function itemErrorToPb(e: ItemError): memoryPb.ItemError {
  return { index: e.index, id: e.id ?? '', code: e.code, message: e.message, field: e.field ?? '' };
}
