import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const deleteMemoryTool = defineTool({
  name: 'delete_memory',
  title: 'Delete a memory',
  description: 'Deletes one of your memories, its vector included. Only the owner may delete a memory.',
  scope: SCOPES.write,
  input: z.object({ memory_id: z.uuid().describe('The memory to delete.') }).strict(),
  output: z.object({ memory_id: z.uuid(), deleted: z.boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.memory.deleteMemory.bind(clients.memory),
      { memoryId: input.memory_id },
      metadata,
    );
    return { memory_id: res.memoryId, deleted: res.deleted };
  },
});
