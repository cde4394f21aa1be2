import { memoryPb } from '@picard/proto';
import { DomainError } from '@picard/service-kit';
import { isoDateTime, permissionName } from './memory.schema.js';
import { z } from './zod.js';

const CHANGE_NAMES = {
  [memoryPb.HistoryChange.HISTORY_CHANGE_UPDATE]: 'update',
  [memoryPb.HistoryChange.HISTORY_CHANGE_PERMISSIONS]: 'permissions',
  [memoryPb.HistoryChange.HISTORY_CHANGE_RESTORE]: 'restore',
} as const;

export const memoryVersionSchema = z
  .object({
    version: z.number().int().min(1).describe('1 is the memory as created; each change adds one.'),
    text: z.string(),
    permission: z.enum(['private', 'public', 'shared']),
    shared_with: z.object({ users: z.array(z.uuid()), groups: z.array(z.uuid()) }),
    tags: z.array(z.string()),
    expiration_date: isoDateTime().nullable(),
    updated_at: isoDateTime().describe('When this version was written.'),
    changed_at: isoDateTime().describe('When a change replaced it.'),
    changed_by: z.uuid().describe('Who made that change.'),
    change: z
      .enum(['update', 'permissions', 'restore'])
      .describe('What replaced it: update_memory, modify_permissions or restore_memory.'),
    restored_version: z
      .number()
      .int()
      .nullable()
      .describe('When the change was a restore: the version it brought back.'),
  })
  .openapi('MemoryVersion');

export const memoryHistorySchema = z
  .object({
    memory_id: z.uuid(),
    current_version: z.number().int().min(1).describe("The memory's version now (not in `versions`)."),
    versions: z.array(memoryVersionSchema).describe('Earlier versions, newest first.'),
    next_cursor: z.string().nullable(),
  })
  .openapi('MemoryHistory');

export type MemoryVersionJson = z.infer<typeof memoryVersionSchema>;

export function versionToJson(v: memoryPb.MemoryVersion): MemoryVersionJson {
  const change = CHANGE_NAMES[v.change as keyof typeof CHANGE_NAMES];
  if (!change)
    throw new DomainError('internal', `memory-service returned an unknown history change ${v.change}`);
  return {
    version: v.version,
    text: v.text,
    permission: permissionName(v.permission),
    shared_with: { users: v.sharedWith?.users ?? [], groups: v.sharedWith?.groups ?? [] },
    tags: v.tags,
    expiration_date: v.expirationDate ? v.expirationDate.toISOString() : null,
    updated_at: (v.updatedAt ?? new Date(0)).toISOString(),
    changed_at: (v.changedAt ?? new Date(0)).toISOString(),
    changed_by: v.changedBy,
    change,
    restored_version: v.restoredVersion ?? null,
  };
}
