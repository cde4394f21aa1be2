import { callUnary } from '@picard/service-kit';
import { LOOKUP_LIMITS } from '@picard/proto';
import { z } from '../../schemas/zod.js';
import { SCOPES } from '../../auth/scopes.js';
import { defineTool } from './tool-definition.js';

// auth-service's bounds, checked here too so bad input is a 400 naming the field before any gRPC hop.
const LIMITS = LOOKUP_LIMITS;

const userRefSchema = z
  .object({ user_id: z.uuid(), username: z.string() })
  .describe('What any signed-in user may know about an account: never its email.')
  .openapi('UserRef');

export const lookupUsersTool = defineTool({
  name: 'lookup_users',
  title: 'Resolve usernames and user ids',
  description:
    'Turns exact usernames into user ids (to share with someone by name) and user ids into usernames (to show ' +
    'who owns or is on a share list). Usernames match ignoring case, as at sign-up. Only active accounts are ' +
    'returned, each once; unknown names and ids are simply missing. Not a search: there is no listing of users. ' +
    'Rate-limited per user.',
  scope: SCOPES.read,
  input: z
    .object({
      usernames: z
        .array(z.string().min(1).max(LIMITS.username))
        .max(LIMITS.usernames)
        .optional()
        .describe(`Exact usernames (at most ${LIMITS.usernames}).`),
      user_ids: z
        .array(z.uuid())
        .max(LIMITS.userIds)
        .optional()
        .describe(`User ids (at most ${LIMITS.userIds}).`),
    })
    .strict()
    .refine((q) => (q.usernames?.length ?? 0) + (q.user_ids?.length ?? 0) > 0, {
      message: 'give at least one username or user id',
      path: ['usernames'],
    }),
  output: z.object({ users: z.array(userRefSchema) }),
  annotations: { readOnlyHint: true },
  rateLimit: (config) => ({ calls: config.GATEWAY_LOOKUP_USERS_PER_MINUTE, windowSeconds: 60 }),
  async run(input, { clients, metadata }) {
    const res = await callUnary(
      clients.auth.lookupUsers.bind(clients.auth),
      { usernames: input.usernames ?? [], userIds: input.user_ids ?? [] },
      metadata,
    );
    return { users: res.users.map((u) => ({ user_id: u.userId, username: u.username })) };
  },
});
