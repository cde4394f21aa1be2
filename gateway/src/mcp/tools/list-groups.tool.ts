import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { groupSchema, groupToJson } from '../../schemas/group.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const listGroupsTool = defineTool({
  name: 'list_groups',
  title: 'List your groups',
  description: 'The groups you own and the groups you are a member of.',
  scope: SCOPES.read,
  input: z.object({}).strict(),
  output: z.object({ groups: z.array(groupSchema) }),
  annotations: { readOnlyHint: true },
  async run(_input, { clients, metadata }) {
    const res = await callUnary(clients.memory.listGroups.bind(clients.memory), {}, metadata);
    return { groups: res.groups.map(groupToJson) };
  },
});
