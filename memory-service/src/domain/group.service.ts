import {
  assertUuid,
  DomainError,
  forbidden,
  invalid,
  newId,
  notFound,
  type Caller,
} from '@picard/service-kit';
import { MEMORY_LIMITS } from '@picard/proto';
import type { GroupRow, GroupStore } from '../store/group.store.js';
import { requireScope, SCOPE_READ, SCOPE_WRITE } from './memory.validation.js';

export const MAX_GROUPS_PER_OWNER = 100;
export const MAX_GROUP_MEMBERS = 1000;

/**
 * Groups to share memories with. The owner manages a group; members see the groups they are in and
 * may leave one. To anyone else a group does not exist (not_found), so ids can't be probed.
 */
export class GroupService {
  constructor(private readonly store: GroupStore) {}

  async create(caller: Caller, name: string): Promise<GroupRow> {
    requireScope(caller, SCOPE_WRITE);
    const checked = checkName(name);
    if ((await this.store.countOwned(caller.userId)) >= MAX_GROUPS_PER_OWNER) {
      throw new DomainError('unprocessable', `a user may own at most ${MAX_GROUPS_PER_OWNER} groups`);
    }
    return this.store.create({ id: newId(), ownerId: caller.userId, name: checked });
  }

  async rename(caller: Caller, groupId: string, name: string): Promise<GroupRow> {
    requireScope(caller, SCOPE_WRITE);
    const group = await this.owned(caller, groupId, 'rename');
    return this.store.rename(group.id, checkName(name));
  }

  async delete(caller: Caller, groupId: string): Promise<string> {
    requireScope(caller, SCOPE_WRITE);
    const group = await this.owned(caller, groupId, 'delete');
    await this.store.delete(group.id);
    return group.id;
  }

  async addMember(caller: Caller, groupId: string, userId: string): Promise<GroupRow> {
    requireScope(caller, SCOPE_WRITE);
    const member = assertUuid('user_id', userId);
    const group = await this.owned(caller, groupId, 'add members to');
    if (!group.memberIds.includes(member) && group.memberIds.length >= MAX_GROUP_MEMBERS) {
      throw new DomainError('unprocessable', `a group has at most ${MAX_GROUP_MEMBERS} members`);
    }
    return this.store.addMember(group.id, member);
  }

  /** The owner removes anyone but themselves; a member may remove only themselves (leave). */
  async removeMember(caller: Caller, groupId: string, userId: string): Promise<GroupRow> {
    requireScope(caller, SCOPE_WRITE);
    const member = assertUuid('user_id', userId);
    const group = await this.visible(caller, groupId);
    if (member === group.ownerId)
      throw invalid('user_id', "a group's owner cannot be removed from it; delete the group instead");
    if (caller.userId !== group.ownerId && caller.userId !== member) {
      throw forbidden('only the owner may remove other members of a group');
    }
    if (!group.memberIds.includes(member))
      throw notFound(`user ${member} is not a member of group ${group.id}`);
    return this.store.removeMember(group.id, member);
  }

  async list(caller: Caller): Promise<GroupRow[]> {
    requireScope(caller, SCOPE_READ);
    return this.store.listFor(caller.userId);
  }

  /** Ids of the caller's groups: the ones a memory may be shared with, and the pure visibility check's input. */
  groupIdsOf(userId: string): Promise<string[]> {
    return this.store.groupIdsOf(userId);
  }

  private async visible(caller: Caller, groupId: string): Promise<GroupRow> {
    const id = assertUuid('group_id', groupId);
    const group = await this.store.findVisible(caller.userId, id);
    if (!group) throw notFound(`group ${id} not found`);
    return group;
  }

  private async owned(caller: Caller, groupId: string, verb: string): Promise<GroupRow> {
    const group = await this.visible(caller, groupId);
    if (group.ownerId !== caller.userId) throw forbidden(`only the group's owner may ${verb} it`);
    return group;
  }
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw invalid('name', 'name must not be empty');
  if (trimmed.length > MEMORY_LIMITS.groupNameChars) {
    throw invalid(
      'name',
      `name is longer than ${MEMORY_LIMITS.groupNameChars} characters (got ${trimmed.length})`,
    );
  }
  return trimmed;
}
