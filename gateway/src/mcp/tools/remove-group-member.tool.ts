import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { groupSchema, groupToJson } from '../../schemas/group.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const removeGroupMemberTool = defineTool({
  name: 'remove_group_member',
  title: 'Remove a member from a group',
  description:
    'Removes a user from a group you own, or yourself from a group you belong to (leaving it). ' +
    'They no longer see the memories shared with the group.',
  scope: SCOPES.write,
  input: z.object({ group_id: z.uuid(), user_id: z.uuid().describe('The user to remove.') }).strict(),
  output: groupSchema,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  async run(input, { clients, metadata }) {
    return groupToJson(
      await callUnary(
        clients.memory.removeGroupMember.bind(clients.memory),
        { groupId: input.group_id, userId: input.user_id },
        metadata,
      ),
    );
  },
});
