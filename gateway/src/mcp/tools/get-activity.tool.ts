import { callUnary } from '@picard/service-kit';
import { z } from '../../schemas/zod.js';
import { activitySchema, byPermission } from '../../schemas/activity.schema.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

export const getActivityTool = defineTool({
  name: 'get_activity',
  title: 'Activity of a user',
  description:
    'Your activity: live memories by permission, searches made (in total and per day over the last 30 days), ' +
    'and when you were last active. ' +
    "Another user's activity needs the memories:admin scope.",
  scope: SCOPES.read,
  input: z
    .object({
      user_id: z.uuid().optional().describe('Whose activity (default: yours; others need memories:admin).'),
    })
    .strict(),
  output: activitySchema,
  annotations: { readOnlyHint: true },
  async run(input, { clients, metadata }) {
    const a = await callUnary(
      clients.memory.getActivity.bind(clients.memory),
      { userId: input.user_id },
      metadata,
    );
    return {
      user_id: a.userId,
      memories_by_permission: byPermission(a.memoriesByPermission),
      searches: a.searches,
      last_activity: a.lastActivity ? a.lastActivity.toISOString() : null,
      searches_by_day: a.searchesByDay.map((d) => ({ date: d.date, count: d.count })),
    };
  },
});
