import fc from 'fast-check';
import { SCOPES } from '../../gateway/src/auth/scopes.js';
import type { Hints } from './schema-arbitrary.js';
import type { Target } from './targets.js';
import { REDIRECT_URI, type World } from './world.js';

const from = <T>(values: readonly T[]) => (values.length ? fc.constantFrom(...values) : undefined);

/**
 * What a property of a target's input may be set to besides random values. Ids that could cut the
 * run's own branch off are never offered: path ids of clients and users name a spare client and the
 * bystander, never the fuzzing user or the client its tokens belong to.
 */
export function hintsFor(world: World, target: Target, location: 'path' | 'query' | 'body'): Hints {
  const { known, clients } = world;
  const users = from(known.userIds);
  const body: Record<string, fc.Arbitrary<unknown> | undefined> = {
    memory_id: from(known.memoryIds),
    'memory_ids[]': from(known.memoryIds),
    group_id: from(known.groupIds),
    'groups[]': from(known.groupIds),
    user_id: users,
    'user_ids[]': users,
    'users[]': users,
    username: from(known.usernames),
    'usernames[]': from(known.usernames),
    client_id: from([clients.app.client_id, clients.operator.client_id]),
    client_secret: from([clients.app.client_secret]),
    redirect_uri: fc.constant(REDIRECT_URI),
    'redirect_uris[]': fc.constant(REDIRECT_URI),
    csrf: fc.constant(world.session.csrf),
    code_challenge: fc.constant(world.codeChallenge),
    scope: fc.constantFrom(SCOPES.read, `${SCOPES.read} ${SCOPES.write}`, SCOPES.admin),
    token: from([world.revokee.access_token, world.revokee.refresh_token]),
    email: fc.emailAddress(),
  };
  if (target.tool === 'import_memories') body.data = from(known.exports);
  const path: Record<string, fc.Arbitrary<unknown> | undefined> = {
    client_id: fc.constant(clients.spare.client_id),
    user_id: fc.constant(world.bystander.user_id),
  };
  const table = location === 'path' ? path : body;
  return (name) => table[name];
}
