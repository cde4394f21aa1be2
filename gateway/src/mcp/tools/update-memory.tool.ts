import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import {
  expectedUpdatedAt,
  isoDateTime,
  memorySchema,
  memoryToJson,
  tagsInput,
} from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const updateMemoryTool = defineTool({
  name: 'update_memory',
  title: 'Change a memory',
  description:
    'Changes the text (it is re-embedded), the expiration date (null removes it) or the tags (replacing them) of one of your memories.',
  scope: SCOPES.write,
  input: z
    .object({
      memory_id: z.uuid(),
      text: z.string().min(1).optional(),
      expiration_date: isoDateTime().nullable().optional(),
      tags: tagsInput().optional(),
      expected_updated_at: expectedUpdatedAt(),
    })
    .strict(),
  output: memorySchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  async run(input, { clients, metadata }) {
    const memory = await callUnary(
      clients.memory.updateMemory.bind(clients.memory),
      {
        memoryId: input.memory_id,
        text: input.text,
        expirationDate: input.expiration_date ? new Date(input.expiration_date) : undefined,
        clearExpirationDate: input.expiration_date === null,
        tags: input.tags ?? [],
        replaceTags: input.tags !== undefined,
        expectedUpdatedAt: input.expected_updated_at ? new Date(input.expected_updated_at) : undefined,
      },
      metadata,
    );
    return memoryToJson(memory);
  },
});
