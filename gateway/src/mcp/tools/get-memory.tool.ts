import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { memorySchema, memoryToJson } from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const getMemoryTool = defineTool({
  name: 'get_memory',
  title: 'Get a memory',
  description:
    'One memory by id: yours, a public one, or one shared with you. A memory you may not see is ' +
    'answered exactly like one that does not exist (not found).',
  scope: SCOPES.read,
  input: z.object({ memory_id: z.uuid().describe('The memory to read.') }).strict(),
  output: memorySchema,
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const memory = await callUnary(
      clients.memory.getMemory.bind(clients.memory),
      { memoryId: input.memory_id },
      metadata,
    );
    return memoryToJson(memory);
  },
});
