import { callUnary } from '@picard/service-kit';
import { memoryPb } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import { memoryToJson, scoredMemorySchema } from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const queryMemoryTool = defineTool({
  name: 'query_memory',
  title: 'Search memories by meaning',
  description:
    'Semantic search over every memory the caller may see (their own, and public ones), most similar first. ' +
    'Each result carries its cosine similarity to the query.',
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
        permission: memoryPb.Permission.PERMISSION_UNSPECIFIED,
        tags: [],
        hybrid: false,
      },
      metadata,
    );
    return { memories: res.memories.map((m) => ({ ...memoryToJson(m), similarity: m.similarity ?? 0 })) };
  },
});
