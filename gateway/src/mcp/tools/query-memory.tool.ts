import { callUnary } from '@picard/service-kit';
import { memoryPb } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import {
  memoryToJson,
  permissionToProto,
  scoredMemorySchema,
  tagsInput,
} from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const queryMemoryTool = defineTool({
  name: 'query_memory',
  title: 'Search memories by meaning',
  description:
    'Semantic search over every memory the caller may see (their own, public ones, and those shared with them ' +
    'or their groups), most similar first. Each result carries its cosine similarity to the query.',
  scope: SCOPES.read,
  input: z
    .object({
      query: z.string().min(1).describe('What to look for, in natural language.'),
      limit: z
        .number()
        .int()
        .min(1)
        .max(100)
        .optional()
        .describe('How many results (default 10, at most 100).'),
      user_id: z.uuid().optional().describe("Only this user's memories."),
      permission: z.enum(['private', 'public', 'shared']).optional(),
      tags: tagsInput().optional().describe('Memories carrying all of these tags.'),
      min_similarity: z
        .number()
        .min(-1)
        .max(1)
        .optional()
        .describe('Leave out results less similar than this (cosine similarity, -1 to 1).'),
      hybrid: z
        .boolean()
        .optional()
        .describe(
          'Hybrid ranking (default false): fuses vector similarity with keyword relevance on the decrypted ' +
            'candidates, which helps queries that name exact words (names, codes) rather than ideas.',
        ),
    })
    .strict(),
  output: z.object({ memories: z.array(scoredMemorySchema) }),
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.memory.queryMemory.bind(clients.memory),
      {
        query: input.query,
        limit: input.limit ?? 10,
        userId: input.user_id,
        permission: input.permission
          ? permissionToProto(input.permission)
          : memoryPb.Permission.PERMISSION_UNSPECIFIED,
        tags: input.tags ?? [],
        anyTags: [],
        minSimilarity: input.min_similarity,
        hybrid: input.hybrid ?? false,
      },
      metadata,
    );
    return { memories: res.memories.map((m) => ({ ...memoryToJson(m), similarity: m.similarity ?? 0 })) };
  },
});
