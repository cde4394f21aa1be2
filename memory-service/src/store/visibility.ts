import type { Knex } from '@picard/service-kit';
import type { PermissionName } from '../domain/memory.model.js';

/**
 * The one visibility rule, in its two forms kept side by side so they cannot drift apart:
 * a SQL where-clause for queries and a pure function for checks on rows already in memory.
 *
 *   - the owner sees their own memories;
 *   - any authenticated caller sees public ones;
 *   - a shared memory is seen by the users it is shared with and by the members of the groups it is
 *     shared with (a group's owner is one of its members);
 *   - an expired memory (expiration_date <= now) is seen by no one.
 */
export interface Viewer {
  userId: string;
}

/** The pure form needs the viewer's groups; the SQL form reads them from group_members itself. */
export interface ViewerWithGroups extends Viewer {
  groupIds: readonly string[];
}

export interface Shares {
  users: readonly string[];
  groups: readonly string[];
}

export interface VisibilityFacts {
  userId: string;
  permission: PermissionName;
  expirationDate: Date | null;
  sharedWith: Shares;
}

export function canSee(viewer: ViewerWithGroups, memory: VisibilityFacts, now: Date = new Date()): boolean {
  if (memory.expirationDate && memory.expirationDate.getTime() <= now.getTime()) return false;
  if (memory.userId === viewer.userId) return true;
  if (memory.permission === 'public') return true;
  if (memory.permission !== 'shared') return false;
  return (
    memory.sharedWith.users.includes(viewer.userId) ||
    memory.sharedWith.groups.some((g) => viewer.groupIds.includes(g))
  );
}

/** Expired rows are invisible to everyone, the owner included. */
export function whereNotExpired(table = 'memories') {
  return (qb: Knex.QueryBuilder) =>
    qb.whereRaw('(??.expiration_date IS NULL OR ??.expiration_date > now())', [table, table]);
}

/** `canSee` as a where-clause on `table` (an alias of memory.memories). */
export function whereVisibleTo(viewer: Viewer, table = 'memories') {
  return (qb: Knex.QueryBuilder) =>
    qb
      .where((who) =>
        who
          .where(`${table}.user_id`, viewer.userId)
          .orWhere(`${table}.permission`, 'public')
          .orWhere((shared) =>
            shared.where(`${table}.permission`, 'shared').whereExists((share) =>
              share
                .select(share.client.raw('1'))
                .from('memory_shares')
                .whereRaw('memory_shares.memory_id = ??.id', [table])
                .where((principal) =>
                  principal
                    .where({
                      'memory_shares.principal_type': 'user',
                      'memory_shares.principal_id': viewer.userId,
                    })
                    .orWhere((group) =>
                      group
                        .where('memory_shares.principal_type', 'group')
                        .whereIn(
                          'memory_shares.principal_id',
                          share.client
                            .queryBuilder()
                            .select('group_id')
                            .from('group_members')
                            .where('group_members.user_id', viewer.userId),
                        ),
                    ),
                ),
            ),
          ),
      )
      .where(whereNotExpired(table));
}

export type ExpiredFilter = 'exclude' | 'include' | 'only';

/**
 * The listing form of the rule: `whereVisibleTo`, optionally widened by the viewer's OWN expired
 * memories ('include') or narrowed to just those ('only'). Nobody else's expired memory is ever listed.
 */
export function whereListableBy(viewer: Viewer, expired: ExpiredFilter, table = 'memories') {
  const ownExpired = (qb: Knex.QueryBuilder) =>
    qb.where(`${table}.user_id`, viewer.userId).whereRaw('??.expiration_date <= now()', [table]);
  if (expired === 'exclude') return whereVisibleTo(viewer, table);
  if (expired === 'only') return ownExpired;
  return (qb: Knex.QueryBuilder) =>
    qb.where((either) => either.where(whereVisibleTo(viewer, table)).orWhere(ownExpired));
}
