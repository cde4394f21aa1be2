import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { expectedUpdatedAt, memorySchema, memoryToJson } from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const restoreMemoryTool = defineTool({
  name: 'restore_memory',
  title: 'Restore an earlier version of a memory',
  description:
    'Makes an earlier version of one of your memories current again: its text (re-embedded), tags, permission and ' +
    'shares; the expiration date stays as it is. The restore is itself a new version: the one it replaces goes to ' +
    'the history, so it can be undone. Version numbers come from get_memory_history.',
  scope: SCOPES.write,
  input: z
    .object({
      memory_id: z.uuid().describe('The memory to restore (yours).'),
      version: z.number().int().min(1).max(2_147_483_647).describe('The earlier version to bring back.'),
      expected_updated_at: expectedUpdatedAt(),
    })
    .strict(),
  output: memorySchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async run(input, { clients, metadata }) {
    const memory = await callUnary(
      clients.memory.restoreMemory.bind(clients.memory),
      {
        memoryId: input.memory_id,
        version: input.version,
        expectedUpdatedAt: input.expected_updated_at ? new Date(input.expected_updated_at) : undefined,
      },
      metadata,
    );
    return memoryToJson(memory);
  },
});
