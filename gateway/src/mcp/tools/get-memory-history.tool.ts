import { callUnary } from '@picard/service-kit';
import { MEMORY_LIMITS } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import { memoryHistorySchema, versionToJson } from '../../schemas/history.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

const PAGE = MEMORY_LIMITS.historyPage;

export const getMemoryHistoryTool = defineTool({
  name: 'get_memory_history',
  title: "A memory's earlier versions",
  description:
    'The earlier versions of one of your memories, newest first, one page at a time: each update, permission or ' +
    'share change and restore keeps the version it replaced, with who changed it and when (the newest 100 by ' +
    'default, MEMORY_HISTORY_MAX_VERSIONS). Only the owner sees a ' +
    "memory's history; pass next_cursor back as cursor for the next page (null on the last page).",
  scope: SCOPES.read,
  input: z
    .object({
      memory_id: z.uuid().describe('The memory whose history to read (yours).'),
      limit: z
        .number()
        .int()
        .min(1)
        .max(PAGE.max)
        .optional()
        .describe(`Versions per page (default ${PAGE.default}).`),
      cursor: z.string().optional().describe('next_cursor of the previous page.'),
    })
    .strict(),
  output: memoryHistorySchema,
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const page = await callUnary(
      clients.memory.getMemoryHistory.bind(clients.memory),
      { memoryId: input.memory_id, limit: input.limit ?? PAGE.default, cursor: input.cursor ?? '' },
      metadata,
    );
    return {
      memory_id: page.memoryId,
      current_version: page.currentVersion,
      versions: page.versions.map(versionToJson),
      next_cursor: page.nextCursor ?? null,
    };
  },
});
