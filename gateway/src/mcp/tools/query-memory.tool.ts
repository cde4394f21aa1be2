import { callUnary } from '@picard/service-kit';
import { MEMORY_LIMITS, memoryPb } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import {
  memoryToJson,
  permissionToProto,
  scoredMemorySchema,
  tagsInput,
} from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

const SEARCH_MODES = {
  vector: memoryPb.SearchMode.SEARCH_MODE_VECTOR,
  keyword: memoryPb.SearchMode.SEARCH_MODE_KEYWORD,
  hybrid: memoryPb.SearchMode.SEARCH_MODE_HYBRID,
} as const;

const searchModeToProto = (mode: keyof typeof SEARCH_MODES | undefined) =>
  mode ? SEARCH_MODES[mode] : memoryPb.SearchMode.SEARCH_MODE_UNSPECIFIED;

const PAGE = MEMORY_LIMITS.queryPage;

export const queryMemoryTool = defineTool({
  name: 'query_memory',
  title: 'Search memories',
  description:
    'Search over every memory the caller may see (their own, public ones, and those shared with them ' +
    "or their groups), best match first: by meaning and by the query's words together (hybrid) unless `mode` " +
    'says otherwise. Each result carries its cosine similarity to the query.',
  scope: SCOPES.read,
  input: z
    .object({
      query: z.string().min(1).describe('What to look for, in natural language.'),
      limit: z
        .number()
        .int()
        .min(1)
        .max(PAGE.max)
        .optional()
        .describe(`How many results (default ${PAGE.default}, at most ${PAGE.max}).`),
      user_id: z.uuid().optional().describe("Only this user's memories."),
      permission: z.enum(['private', 'public', 'shared']).optional(),
      tags: tagsInput().optional().describe('Memories carrying all of these tags.'),
      min_similarity: z
        .number()
        .min(-1)
        .max(1)
        .optional()
        .describe('Leave out results less similar than this (cosine similarity, -1 to 1).'),
      mode: z
        .enum(['vector', 'keyword', 'hybrid'])
        .optional()
        .describe(
          'How to search (default hybrid): "vector" finds memories by meaning, "keyword" by the query\'s words ' +
            '(names, places, dates; BM25 over an index of blinded terms), "hybrid" takes candidates from both and fuses them.',
        ),
      hybrid: z
        .boolean()
        .optional()
        .describe('Older switch, used when mode is not given: true = "hybrid", false = "vector".'),
    })
    .strict(),
  output: z.object({ memories: z.array(scoredMemorySchema) }),
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.memory.queryMemory.bind(clients.memory),
      {
        query: input.query,
        limit: input.limit ?? PAGE.default,
        userId: input.user_id,
        permission: input.permission
          ? permissionToProto(input.permission)
          : memoryPb.Permission.PERMISSION_UNSPECIFIED,
        tags: input.tags ?? [],
        anyTags: [],
        minSimilarity: input.min_similarity,
        hybrid: false,
        mode: searchModeToProto(
          input.mode ?? (input.hybrid === undefined ? undefined : input.hybrid ? 'hybrid' : 'vector'),
        ),
      },
      metadata,
    );
    return { memories: res.memories.map((m) => ({ ...memoryToJson(m), similarity: m.similarity ?? 0 })) };
  },
});
