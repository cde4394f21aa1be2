import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { groupSchema, groupToJson } from '../../schemas/group.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const addGroupMemberTool = defineTool({
  name: 'add_group_member',
  title: 'Add a member to a group',
  description: 'Adds a user to a group you own; they then see the memories shared with the group.',
  scope: SCOPES.write,
  input: z.object({ group_id: z.uuid(), user_id: z.uuid().describe('The user to add.') }).strict(),
  output: groupSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  async run(input, { clients, metadata }) {
    return groupToJson(
      await callUnary(
        clients.memory.addGroupMember.bind(clients.memory),
        { groupId: input.group_id, userId: input.user_id },
        metadata,
      ),
    );
  },
});
