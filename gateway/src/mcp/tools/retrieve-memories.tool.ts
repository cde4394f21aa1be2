import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { memorySchema, memoryToJson, type MemoryJson } from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

const PAGE = 500;

export const retrieveMemoriesTool = defineTool({
  name: 'retrieve_memories',
  title: "List the caller's memories",
  description: 'Returns every memory the caller owns that has not expired, newest first.',
  scope: SCOPES.read,
  input: z.object({}).strict(),
  output: z.object({ memories: z.array(memorySchema) }),
  annotations: { readOnlyHint: true },
  async run(_input, { clients, metadata }) {
    const memories: MemoryJson[] = [];
    let cursor = '';
    do {
      const page = await callUnary(
        clients.memory.retrieveMemories.bind(clients.memory),
        { limit: PAGE, cursor },
        metadata,
      );
      memories.push(...page.memories.map(memoryToJson));
      cursor = page.nextCursor ?? '';
    } while (cursor);
    return { memories };
  },
});
