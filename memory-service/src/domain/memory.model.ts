import type { memoryPb } from '@picard/proto';

/**
 * The domain's view of memories. Requests are the generated types, with enums by name (the
 * store's spelling) where the gRPC codec maps them; results are the domain's own records.
 */
export type PermissionName = 'private' | 'public' | 'shared';

export interface MemoryRecord {
  id: string;
  userId: string;
  text: string;
  permission: PermissionName;
  expirationDate: Date | null;
  tags: string[];
  /** Filled for the owner only: who else may read it is the owner's business. */
  sharedWith: { users: string[]; groups: string[] };
  createdAt: Date;
  updatedAt: Date;
  embeddingPending: boolean;
  /** Only on search results. */
  similarity?: number;
}

export type NewMemoryInput = Omit<memoryPb.NewMemory, 'permission' | 'sharedWith'> & {
  permission: PermissionName | 'unspecified';
  /** Absent lists are empty. */
  sharedWith: memoryPb.SharedWith;
};

export type ModifyPermissionsInput = Omit<memoryPb.ModifyPermissionsRequest, 'permission' | 'sharedWith'> & {
  permission: PermissionName | 'unspecified';
  sharedWith: memoryPb.SharedWith;
};

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export type ListMemoriesInput = Omit<memoryPb.GetMemoriesRequest, 'permission' | 'expired'> & {
  /** 'unspecified' = any permission. */
  permission: PermissionName | 'unspecified';
  expired: 'exclude' | 'include' | 'only';
};

export type QueryMemoryInput = Omit<memoryPb.QueryMemoryRequest, 'permission' | 'mode'> & {
  /** 'unspecified' = any permission. */
  permission: PermissionName | 'unspecified';
  /** 'unspecified' = the default (hybrid); the older `hybrid` flag asks for hybrid too. */
  mode: SearchModeName | 'unspecified';
};

export type SearchModeName = 'vector' | 'keyword' | 'hybrid';

/** One bad item of a batch: its position, id when it has one, the error and the field at fault. */
export interface ItemError {
  index: number;
  id?: string;
  code: string;
  message: string;
  field?: string;
}

/** An earlier version of a memory, decrypted for its owner (GetMemoryHistory, export). */
export interface MemoryVersionRecord {
  version: number;
  text: string;
  permission: PermissionName;
  sharedWith: { users: string[]; groups: string[] };
  tags: string[];
  expirationDate: Date | null;
  /** When this version was written. */
  updatedAt: Date;
  /** The change that replaced it. */
  changedAt: Date;
  changedBy: string;
  change: 'update' | 'permissions' | 'restore';
  restoredVersion: number | null;
}
