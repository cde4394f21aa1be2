import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const deleteGroupTool = defineTool({
  name: 'delete_group',
  title: 'Delete a group',
  description:
    'Deletes a group you own. Memories shared with it stay shared with their other users and groups only.',
  scope: SCOPES.write,
  input: z.object({ group_id: z.uuid() }).strict(),
  output: z.object({ group_id: z.uuid(), deleted: z.boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.memory.deleteGroup.bind(clients.memory),
      { groupId: input.group_id },
      metadata,
    );
    return { group_id: res.groupId, deleted: res.deleted };
  },
});
