import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import {
  isoDateTime,
  memorySchema,
  memoryToJson,
  permissionToProto,
  sharedWithInput,
  tagsInput,
} from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const submitMemoryTool = defineTool({
  name: 'submit_memory',
  title: 'Store a memory',
  description:
    'Stores a memory for the caller. It is encrypted at rest and embedded for search by meaning. ' +
    '"private" memories are seen by their owner only; "public" ones by every signed-in user; ' +
    '"shared" ones by the users listed in shared_with. ' +
    'A memory with an expiration_date is never returned after that moment.',
  scope: SCOPES.write,
  input: z
    .object({
      text: z
        .string()
        .min(1)
        .describe('The memory itself (at most MEMORY_MAX_TEXT_CHARS, 10,000 by default).'),
      permission: z.enum(['private', 'public', 'shared']).describe('Who may see it.'),
      expiration_date: isoDateTime()
        .optional()
        .describe('ISO 8601 date-time with offset; must be in the future.'),
      tags: tagsInput().optional(),
      shared_with: sharedWithInput().optional(),
    })
    .strict(),
  output: memorySchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async run(input, { clients, metadata }) {
    const memory = await callUnary(
      clients.memory.submitMemory.bind(clients.memory),
      {
        memory: {
          text: input.text,
          permission: permissionToProto(input.permission),
          expirationDate: input.expiration_date ? new Date(input.expiration_date) : undefined,
          tags: input.tags ?? [],
          sharedWith: input.shared_with ? { users: input.shared_with.users, groups: [] } : undefined,
        },
      },
      metadata,
    );
    return memoryToJson(memory);
  },
});
