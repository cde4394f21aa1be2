import { MEMORY_LIMITS, type memoryPb } from '@picard/proto';
import { z } from './zod.js';

export const groupSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    name: z.string(),
    member_ids: z.array(z.uuid()).describe('Every member, the owner included.'),
    created_at: z.iso.datetime({ offset: true }),
  })
  .openapi('Group');

export type GroupJson = z.infer<typeof groupSchema>;

export const groupToJson = (g: memoryPb.Group): GroupJson => ({
  id: g.id,
  owner_id: g.ownerId,
  name: g.name,
  member_ids: g.memberIds,
  created_at: (g.createdAt ?? new Date(0)).toISOString(),
});

const NAME_MAX = MEMORY_LIMITS.groupNameChars;
export const groupNameInput = () => z.string().min(1).max(NAME_MAX).describe(`1-${NAME_MAX} characters.`);
