import { memoryPb } from '@picard/proto';
import type { MemoryRecord, NewMemoryInput, PermissionName } from '../domain/memory.model.js';

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
    sharedWith: { users: m?.sharedWith?.users ?? [], groups: m?.sharedWith?.groups ?? [] },
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
