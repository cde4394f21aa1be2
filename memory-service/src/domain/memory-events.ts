import type { EventPayload } from '@picard/proto';
import type { NewMemoryRow } from '../store/memory.store.js';
import type { VisibilityFacts } from '../store/visibility.js';

/** `memory.created` for a new row; events carry who may see a memory, never its text. */
export function createdEvent(row: NewMemoryRow): EventPayload<'memory.created'> {
  return {
    memory_id: row.id,
    user_id: row.userId,
    permission: row.permission,
    occurred_at: new Date().toISOString(),
  };
}

/** `memory.deleted` for a memory deleted on request (the expiry sweeper sends its own, `expired`). */
export function deletedEvent(memoryId: string, facts: VisibilityFacts): EventPayload<'memory.deleted'> {
  return {
    memory_id: memoryId,
    user_id: facts.userId,
    permission: facts.permission,
    occurred_at: new Date().toISOString(),
    reason: 'deleted',
  };
}
