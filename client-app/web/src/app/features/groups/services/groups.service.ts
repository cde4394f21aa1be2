import { Injectable, inject } from '@angular/core';
import type { Group } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';

@Injectable({ providedIn: 'root' })
export class GroupsService {
  private readonly bff = inject(BffClient);

  list(): Promise<Group[]> {
    return this.bff.tool('list_groups', {}).then((r) => r.groups);
  }
  create(name: string): Promise<Group> {
    return this.bff.tool('create_group', { name });
  }
  rename(groupId: string, name: string): Promise<Group> {
    return this.bff.tool('rename_group', { group_id: groupId, name });
  }
  delete(groupId: string): Promise<unknown> {
    return this.bff.tool('delete_group', { group_id: groupId });
  }
  addMember(groupId: string, userId: string): Promise<Group> {
    return this.bff.tool('add_group_member', { group_id: groupId, user_id: userId });
  }
  removeMember(groupId: string, userId: string): Promise<Group> {
    return this.bff.tool('remove_group_member', { group_id: groupId, user_id: userId });
  }
}
