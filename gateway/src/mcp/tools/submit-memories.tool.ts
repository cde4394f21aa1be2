import { callUnary } from '@picard/service-kit';
import { MEMORY_LIMITS } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import { memorySchema, memoryToJson, newMemoryInput, newMemoryToProto } from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { batchError } from './batch-error.js';
import { defineTool } from './tool-definition.js';

export const MAX_BATCH = MEMORY_LIMITS.batch;

export const submitMemoriesTool = defineTool({
  name: 'submit_memories',
  title: 'Store many memories at once',
  description:
    `Stores up to ${MAX_BATCH} memories in one call (each shaped like submit_memory's input), embedding them in batches; ` +
    'returns them in input order. All or nothing: if any memory is invalid, none is stored and the error lists ' +
    'each bad one by index and field.',
  scope: SCOPES.write,
  input: z
    .object({ memories: z.array(newMemoryInput()).min(1).max(MAX_BATCH).describe('The memories to store.') })
    .strict(),
  output: z.object({ memories: z.array(memorySchema) }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.memory.submitMemories.bind(clients.memory),
      { memories: input.memories.map(newMemoryToProto), validateOnly: false },
      metadata,
      // Embedding 500 texts offline takes a while on a small machine.
      120_000,
    );
    if (res.errors.length) throw batchError(res.errors, input.memories.length, 'are invalid', 'stored');
    return { memories: res.memories.map(memoryToJson) };
  },
});
