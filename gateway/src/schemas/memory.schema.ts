import { MEMORY_LIMITS, memoryPb } from '@picard/proto';
import { DomainError } from '@picard/service-kit';
import { z } from './zod.js';

const PERMISSION_NAMES = {
  [memoryPb.Permission.PERMISSION_PRIVATE]: 'private',
  [memoryPb.Permission.PERMISSION_PUBLIC]: 'public',
  [memoryPb.Permission.PERMISSION_SHARED]: 'shared',
} as const;

export type PermissionName = (typeof PERMISSION_NAMES)[keyof typeof PERMISSION_NAMES];

export const permissionToProto = (name: PermissionName): memoryPb.Permission =>
  Number(
    Object.entries(PERMISSION_NAMES).find(([, n]) => n === name)?.[0] ??
      memoryPb.Permission.PERMISSION_UNSPECIFIED,
  ) as memoryPb.Permission;

export function permissionName(p: memoryPb.Permission): PermissionName {
  const name = PERMISSION_NAMES[p as keyof typeof PERMISSION_NAMES];
  if (!name) throw new DomainError('internal', `memory-service returned an unknown permission ${p}`);
  return name;
}

export const isoDateTime = () => z.iso.datetime({ offset: true });

/** Optimistic concurrency on a change: the memory's `updated_at` as last read. */
export const expectedUpdatedAt = () =>
  isoDateTime()
    .optional()
    .describe(
      "The memory's updated_at as you last read it: the change is refused (409 conflict) if the memory changed since. Leave out to change it whatever happened meanwhile.",
    );

export const memorySchema = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    text: z.string(),
    permission: z.enum(['private', 'public', 'shared']),
    expiration_date: isoDateTime().nullable(),
    created_at: isoDateTime(),
    updated_at: isoDateTime(),
    tags: z.array(z.string()),
    shared_with: z
      .object({ users: z.array(z.uuid()), groups: z.array(z.uuid()) })
      .describe('Who a shared memory is shared with; shown to its owner only.'),
    embedding_pending: z
      .boolean()
      .describe(
        'True while the memory has no vector yet (the embedder was unreachable when it was written); a background retry embeds it, and until then search by meaning cannot find it.',
      ),
  })
  .openapi('Memory');

export const scoredMemorySchema = memorySchema
  .extend({ similarity: z.number().describe('Cosine similarity to the query; 1 is identical.') })
  .openapi('ScoredMemory');

export type MemoryJson = z.infer<typeof memorySchema>;

/** The API shape of a memory: snake_case, ISO dates, permission by name. */
export function memoryToJson(m: memoryPb.Memory): MemoryJson {
  return {
    id: m.id,
    user_id: m.userId,
    text: m.text,
    permission: permissionName(m.permission),
    expiration_date: m.expirationDate ? m.expirationDate.toISOString() : null,
    created_at: (m.createdAt ?? new Date(0)).toISOString(),
    updated_at: (m.updatedAt ?? new Date(0)).toISOString(),
    tags: m.tags,
    shared_with: { users: m.sharedWith?.users ?? [], groups: m.sharedWith?.groups ?? [] },
    embedding_pending: m.embeddingPending,
  };
}

// memory-service's bounds, checked here too so a bad field is a 400 before any gRPC hop.
const L = MEMORY_LIMITS;

/** Input pieces shared by the tools that write memories. */
export const tagsInput = () =>
  z
    // Trimmed before the length check, as memory-service checks them: "  x  " is the tag "x".
    .array(z.string().trim().min(1).max(L.tagChars))
    .max(L.tags)
    .describe(`Labels for filtering (at most ${L.tags}, 1-${L.tagChars} characters each).`);
export const sharedWithInput = () =>
  z
    .object({
      users: z.array(z.uuid()).max(L.sharedUsers).optional().describe('User ids that may see the memory.'),
      groups: z
        .array(z.uuid())
        .max(L.sharedGroups)
        .optional()
        .describe('Group ids (groups you own or belong to) whose members may see the memory.'),
    })
    .strict()
    .describe('Required when permission is "shared": at least one user or group.');

export type SharedWithInput = z.infer<ReturnType<typeof sharedWithInput>>;

/** The proto shape of shared_with; absent lists are empty. */
export const sharedWithToProto = (s: SharedWithInput | undefined): memoryPb.SharedWith => ({
  users: s?.users ?? [],
  groups: s?.groups ?? [],
});

/** One memory to store: submit_memory's input, and each item of submit_memories. */
export const newMemoryInput = () =>
  z
    .object({
      text: z
        .string()
        .min(1)
        .describe('The memory itself (at most MEMORY_MAX_TEXT_CHARS, 10,000 by default).'),
      permission: z.enum(['private', 'public', 'shared']).describe('Who may see it.'),
      expiration_date: isoDateTime()
        .optional()
        .describe('ISO 8601 date-time with offset; must be in the future.'),
      tags: tagsInput().optional(),
      shared_with: sharedWithInput().optional(),
    })
    .strict();

export type NewMemoryJson = z.infer<ReturnType<typeof newMemoryInput>>;

export const newMemoryToProto = (m: NewMemoryJson): memoryPb.NewMemory => ({
  text: m.text,
  permission: permissionToProto(m.permission),
  expirationDate: m.expiration_date ? new Date(m.expiration_date) : undefined,
  tags: m.tags ?? [],
  sharedWith: sharedWithToProto(m.shared_with),
});
