/** The domain's view of memories; the gRPC codec maps these to and from the generated types. */
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

export interface NewMemoryInput {
  text: string;
  permission: PermissionName | 'unspecified';
  expirationDate?: Date;
  tags: string[];
  sharedWith: { users: string[]; groups: string[] };
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface QueryTimings {
  embedMs: number;
  searchMs: number;
  decryptMs: number;
  totalMs: number;
}

export interface UpdateMemoryInput {
  memoryId: string;
  text?: string;
  expirationDate?: Date;
  clearExpirationDate: boolean;
  tags: string[];
  replaceTags: boolean;
  /** Refuse with `conflict` unless the memory was last changed at this instant (optimistic concurrency). */
  expectedUpdatedAt?: Date;
}

export interface ListMemoriesInput {
  userId?: string;
  permission: PermissionName | 'unspecified';
  tags: string[];
  expired: 'exclude' | 'include' | 'only';
  createdAfter?: Date;
  createdBefore?: Date;
  sort: string;
  order: string;
  limit: number;
  cursor: string;
}

export interface QueryMemoryInput {
  query: string;
  limit: number;
  userId?: string;
  /** 'unspecified' = any permission. */
  permission: PermissionName | 'unspecified';
  tags: string[];
  /** At least one of these tags. */
  anyTags: string[];
  minSimilarity?: number;
  /** 'unspecified' = the default (hybrid); the older `hybrid` flag asks for hybrid too. */
  mode: SearchModeName | 'unspecified';
  hybrid: boolean;
}

export type SearchModeName = 'vector' | 'keyword' | 'hybrid';

/** One bad item of a batch: its position, id when it has one, the error and the field at fault. */
export interface ItemError {
  index: number;
  id?: string;
  code: string;
  message: string;
  field?: string;
}
