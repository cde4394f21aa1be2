import { callUnary } from '@picard/service-kit';
import { memorySchema, memoryToJson, newMemoryInput, newMemoryToProto } from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const submitMemoryTool = defineTool({
  name: 'submit_memory',
  title: 'Store a memory',
  description:
    'Stores a memory for the caller. It is encrypted at rest and embedded for search by meaning. ' +
    '"private" memories are seen by their owner only; "public" ones by every signed-in user; ' +
    '"shared" ones by the users and the members of the groups listed in shared_with. ' +
    'A memory with an expiration_date is never returned after that moment.',
  scope: SCOPES.write,
  input: newMemoryInput(),
  output: memorySchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async run(input, { clients, metadata }) {
    const memory = await callUnary(
      clients.memory.submitMemory.bind(clients.memory),
      { memory: newMemoryToProto(input) },
      metadata,
    );
    return memoryToJson(memory);
  },
});
