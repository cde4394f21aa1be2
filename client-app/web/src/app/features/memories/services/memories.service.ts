import { Injectable, inject } from '@angular/core';
import type { Memory, MemoryHistory } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import type { BffToolInput, BffToolResult } from '../../../core/api/tool-types';
import { toBffError } from '../../../core/errors/bff-error';

export type MemoryQuery = BffToolInput<'get_memories'>;
export type MemoryPage = BffToolResult<'get_memories'>;

/** How many pages of the owner's own memories findById reads for an expired one (get_memory hides those). */
const FIND_PAGES = 20;
const FIND_PAGE_SIZE = 200;
/** Earlier versions shown at a time on a memory's page. */
const HISTORY_PAGE_SIZE = 10;

@Injectable({ providedIn: 'root' })
export class MemoriesService {
  private readonly bff = inject(BffClient);

  list(query: MemoryQuery): Promise<MemoryPage> {
    return this.bff.tool('get_memories', query);
  }

  /**
   * One memory by id (get_memory), null when it is not among the memories the user may see. An
   * expired memory is hidden from everyone by get_memory; its owner (ownerId) still finds it among
   * their own with expired included.
   */
  async findById(id: string, ownerId?: string): Promise<Memory | null> {
    try {
      return await this.bff.tool('get_memory', { memory_id: id });
    } catch (err) {
      if (toBffError(err).error !== 'not_found') throw err;
      if (!ownerId) return null;
    }
    let cursor: string | undefined;
    for (let page = 0; page < FIND_PAGES; page++) {
      const result = await this.list({
        expired: 'include',
        limit: FIND_PAGE_SIZE,
        ...(ownerId ? { user_id: ownerId } : {}),
        ...(cursor ? { cursor } : {}),
      });
      const hit = result.memories.find((m) => m.id === id);
      if (hit) return hit;
      if (!result.next_cursor) return null;
      cursor = result.next_cursor;
    }
    return null;
  }

  submit(input: BffToolInput<'submit_memory'>): Promise<Memory> {
    return this.bff.tool('submit_memory', input);
  }

  update(input: BffToolInput<'update_memory'>): Promise<Memory> {
    return this.bff.tool('update_memory', input);
  }

  modifyPermissions(input: BffToolInput<'modify_permissions'>): Promise<Memory> {
    return this.bff.tool('modify_permissions', input);
  }

  /** A page of the earlier versions of one of the user's own memories, newest first. */
  history(id: string, cursor?: string): Promise<MemoryHistory> {
    return this.bff.tool('get_memory_history', {
      memory_id: id,
      limit: HISTORY_PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    });
  }

  /** Brings back an earlier version; refused (conflict) when the memory changed after `expectedUpdatedAt`. */
  restore(id: string, version: number, expectedUpdatedAt: string): Promise<Memory> {
    return this.bff.tool('restore_memory', {
      memory_id: id,
      version,
      expected_updated_at: expectedUpdatedAt,
    });
  }

  delete(id: string): Promise<BffToolResult<'delete_memory'>> {
    return this.bff.tool('delete_memory', { memory_id: id });
  }

  deleteMany(ids: string[]): Promise<BffToolResult<'delete_memories'>> {
    return this.bff.tool('delete_memories', { memory_ids: ids });
  }
}
