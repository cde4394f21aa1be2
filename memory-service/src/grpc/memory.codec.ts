import { memoryPb } from '@picard/proto';
import { invalid } from '@picard/service-kit';
import type { ListMemoriesInput, MemoryRecord, NewMemoryInput, PermissionName, UpdateMemoryInput } from '../domain/memory.model.js';

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

function sharedWithFromPb(s: memoryPb.SharedWith | undefined): { users: string[]; groups: string[] } {
  return { users: s?.users ?? [], groups: s?.groups ?? [] };
}

export function modifyPermissionsFromPb(r: memoryPb.ModifyPermissionsRequest) {
  return { memoryId: r.memoryId, permission: permissionFromPb(r.permission), sharedWith: sharedWithFromPb(r.sharedWith) };
}

export function updateFromPb(r: memoryPb.UpdateMemoryRequest): UpdateMemoryInput {
  return {
    memoryId: r.memoryId,
    text: r.text,
    expirationDate: r.expirationDate,
    clearExpirationDate: r.clearExpirationDate,
    tags: r.tags,
    replaceTags: r.replaceTags,
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
  // UNSPECIFIED means "any permission" here; a number this build does not know is refused.
  const permission = r.permission === Permission.PERMISSION_UNSPECIFIED ? 'unspecified' : permissionFromPb(r.permission);
  if (r.permission !== Permission.PERMISSION_UNSPECIFIED && permission === 'unspecified') {
    throw invalid('permission', 'permission must be PRIVATE, PUBLIC or SHARED when set');
  }
  return {
    userId: r.userId,
    permission,
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
