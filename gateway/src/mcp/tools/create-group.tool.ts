import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { groupNameInput, groupSchema, groupToJson } from '../../schemas/group.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const createGroupTool = defineTool({
  name: 'create_group',
  title: 'Create a group',
  description:
    'Creates a group you own, to share memories with its members at once (shared_with.groups). ' +
    'Group names are unique among your groups.',
  scope: SCOPES.write,
  input: z.object({ name: groupNameInput() }).strict(),
  output: groupSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async run(input, { clients, metadata }) {
    return groupToJson(
      await callUnary(clients.memory.createGroup.bind(clients.memory), { name: input.name }, metadata),
    );
  },
});
