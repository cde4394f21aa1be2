import type { Caller } from '@picard/service-kit';
import type { MemoryRow } from '../store/memory.store.js';
import type { Shares } from '../store/visibility.js';
import type { MemoryCipher } from './memory-cipher.js';
import type { MemoryRecord } from './memory.model.js';

/** Decrypts a row for a caller who may see it; who else may read it is shown to the owner only. */
export function revealRow(
  cipher: MemoryCipher,
  caller: Caller,
  row: MemoryRow,
  shares: Map<string, Shares>,
): MemoryRecord {
  const own = row.userId === caller.userId ? shares.get(row.id) : undefined;
  return {
    id: row.id,
    userId: row.userId,
    text: cipher.open(row.id, row.sealed),
    permission: row.permission,
    expirationDate: row.expirationDate,
    tags: row.tags,
    sharedWith: { users: [...(own?.users ?? [])], groups: [...(own?.groups ?? [])] },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    embeddingPending: row.embeddingPending,
  };
}
