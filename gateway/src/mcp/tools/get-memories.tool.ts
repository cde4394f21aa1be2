import { callUnary } from '@picard/service-kit';
import { MEMORY_LIMITS, memoryPb } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import {
  isoDateTime,
  memorySchema,
  memoryToJson,
  permissionToProto,
  tagsInput,
} from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

const EXPIRED = {
  exclude: memoryPb.ExpiredFilter.EXPIRED_FILTER_EXCLUDE,
  include: memoryPb.ExpiredFilter.EXPIRED_FILTER_INCLUDE,
  only: memoryPb.ExpiredFilter.EXPIRED_FILTER_ONLY,
} as const;

const PAGE = MEMORY_LIMITS.listPage;

export const getMemoriesTool = defineTool({
  name: 'get_memories',
  title: 'List memories you may see, filtered',
  description:
    'Every memory you may see (yours, public ones, and those shared with you), filtered and sorted, one page at a time: ' +
    'pass next_cursor back as cursor for the next page (null on the last page). Expired memories appear only for their owner, ' +
    'with expired "include" or "only".',
  scope: SCOPES.read,
  input: z
    .object({
      user_id: z.uuid().optional().describe("Only this user's memories."),
      permission: z.enum(['private', 'public', 'shared']).optional(),
      tags: tagsInput().optional().describe('Memories carrying all of these tags.'),
      expired: z.enum(['exclude', 'include', 'only']).optional(),
      created_after: isoDateTime().optional(),
      created_before: isoDateTime().optional(),
      sort: z.enum(['created_at', 'updated_at', 'expiration_date']).optional(),
      order: z.enum(['asc', 'desc']).optional(),
      limit: z
        .number()
        .int()
        .min(1)
        .max(PAGE.max)
        .optional()
        .describe(`Page size (default ${PAGE.default}).`),
      cursor: z.string().optional(),
    })
    .strict(),
  output: z.object({ memories: z.array(memorySchema), next_cursor: z.string().nullable() }),
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const page = await callUnary(
      clients.memory.getMemories.bind(clients.memory),
      {
        userId: input.user_id,
        permission: input.permission
          ? permissionToProto(input.permission)
          : memoryPb.Permission.PERMISSION_UNSPECIFIED,
        tags: input.tags ?? [],
        expired: EXPIRED[input.expired ?? 'exclude'],
        createdAfter: input.created_after ? new Date(input.created_after) : undefined,
        createdBefore: input.created_before ? new Date(input.created_before) : undefined,
        sort: input.sort ?? 'created_at',
        order: input.order ?? 'desc',
        limit: input.limit ?? PAGE.default,
        cursor: input.cursor ?? '',
      },
      metadata,
    );
    return { memories: page.memories.map(memoryToJson), next_cursor: page.nextCursor ?? null };
  },
});
