import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { SCOPES } from '../../auth/scopes.js';
import { batchError } from './batch-error.js';
import { MAX_BATCH } from './submit-memories.tool.js';
import { defineTool } from './tool-definition.js';

export const deleteMemoriesTool = defineTool({
  name: 'delete_memories',
  title: 'Delete many memories at once',
  description:
    `Deletes up to ${MAX_BATCH} of your memories, vectors included. All or nothing: if any id is not yours, ` +
    'unknown or listed twice, none is deleted and the error lists each such id.',
  scope: SCOPES.write,
  input: z
    .object({
      memory_ids: z.array(z.uuid()).min(1).max(MAX_BATCH).describe('The memories to delete.'),
    })
    .strict(),
  output: z.object({ deleted_ids: z.array(z.uuid()) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.memory.deleteMemories.bind(clients.memory),
      { memoryIds: input.memory_ids },
      metadata,
    );
    if (res.errors.length) {
      throw batchError(res.errors, input.memory_ids.length, 'could not be deleted', 'deleted');
    }
    return { deleted_ids: res.deletedIds };
  },
});
