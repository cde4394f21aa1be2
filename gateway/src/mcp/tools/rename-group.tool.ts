import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { groupNameInput, groupSchema, groupToJson } from '../../schemas/group.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const renameGroupTool = defineTool({
  name: 'rename_group',
  title: 'Rename a group',
  description: 'Renames a group you own.',
  scope: SCOPES.write,
  input: z.object({ group_id: z.uuid(), name: groupNameInput() }).strict(),
  output: groupSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  async run(input, { clients, metadata }) {
    return groupToJson(
      await callUnary(
        clients.memory.renameGroup.bind(clients.memory),
        { groupId: input.group_id, name: input.name },
        metadata,
      ),
    );
  },
});
