import { callUnary } from '@picard/service-kit';
import { MEMORY_LIMITS } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import { memorySchema, memoryToJson } from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

const PAGE = MEMORY_LIMITS.retrievePage;

export const retrieveMemoriesTool = defineTool({
  name: 'retrieve_memories',
  title: "List the caller's memories",
  description:
    'Returns the memories the caller owns that have not expired, newest first, a page at a time: ' +
    'pass next_cursor back as cursor for the next page (null on the last page).',
  scope: SCOPES.read,
  input: z
    .object({
      limit: z
        .number()
        .int()
        .min(1)
        .max(PAGE.max)
        .optional()
        .describe(`Memories per page (default ${PAGE.default}, at most ${PAGE.max}).`),
      cursor: z.string().max(512).optional().describe('next_cursor of the previous page.'),
    })
    .strict(),
  output: z.object({ memories: z.array(memorySchema), next_cursor: z.string().nullable() }),
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const page = await callUnary(
      clients.memory.retrieveMemories.bind(clients.memory),
      { limit: input.limit ?? PAGE.default, cursor: input.cursor ?? '' },
      metadata,
    );
    return { memories: page.memories.map(memoryToJson), next_cursor: page.nextCursor ?? null };
  },
});
