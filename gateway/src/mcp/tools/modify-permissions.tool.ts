import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import {
  expectedUpdatedAt,
  memorySchema,
  memoryToJson,
  permissionToProto,
  sharedWithInput,
  sharedWithToProto,
} from '../../schemas/memory.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const modifyPermissionsTool = defineTool({
  name: 'modify_permissions',
  title: 'Change who may see a memory',
  description:
    'Sets a memory of yours to "private" (you only), "public" (every signed-in user) or "shared" ' +
    '(the users and the members of the groups listed in shared_with).',
  scope: SCOPES.write,
  input: z
    .object({
      memory_id: z.uuid(),
      permission: z.enum(['private', 'public', 'shared']),
      shared_with: sharedWithInput().optional(),
      expected_updated_at: expectedUpdatedAt(),
    })
    .strict(),
  output: memorySchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  async run(input, { clients, metadata }) {
    const memory = await callUnary(
      clients.memory.modifyPermissions.bind(clients.memory),
      {
        memoryId: input.memory_id,
        permission: permissionToProto(input.permission),
        sharedWith: sharedWithToProto(input.shared_with),
        expectedUpdatedAt: input.expected_updated_at ? new Date(input.expected_updated_at) : undefined,
      },
      metadata,
    );
    return memoryToJson(memory);
  },
});
