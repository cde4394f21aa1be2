/**
 * The memory editor's rules, apart from the page: what a draft must satisfy before it is sent (the
 * same bounds the gateway checks) and the tool payloads built from it.
 */
import type { BffError, Memory, Permission } from '@contract/bff-api';
import type { BffToolInput } from '../../../core/api/tool-types';

export const MEMORY_LIMITS = { text: 10_000, tags: 20, tagLength: 64 } as const;

export interface SharedUser {
  user_id: string;
  username: string;
}

export interface MemoryDraft {
  text: string;
  permission: Permission;
  tags: string[];
  /** The datetime-local value (local time, "YYYY-MM-DDTHH:mm"), or '' for no expiry. */
  expiry: string;
  users: SharedUser[];
  groupIds: string[];
}

export function emptyDraft(): MemoryDraft {
  return { text: '', permission: 'private', tags: [], expiry: '', users: [], groupIds: [] };
}

export function draftFromMemory(memory: Memory, usernames: (id: string) => string): MemoryDraft {
  return {
    text: memory.text,
    permission: memory.permission,
    tags: [...memory.tags],
    expiry: memory.expiration_date ? toLocalInput(memory.expiration_date) : '',
    users: (memory.shared_with?.users ?? []).map((id) => ({ user_id: id, username: usernames(id) })),
    groupIds: [...(memory.shared_with?.groups ?? [])],
  };
}

/** An ISO date-time as a datetime-local input's value, in the browser's time zone. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (local time) as ISO 8601 with offset (UTC). */
export function fromLocalInput(value: string): string {
  return new Date(value).toISOString();
}

const invalid = (field: string, message: string): BffError => ({ error: 'invalid_argument', field, message });

/** The first thing wrong with a draft, or null. `field` matches the tool's field names. */
export function validateDraft(draft: MemoryDraft, now = new Date()): BffError | null {
  const text = draft.text.trim();
  if (!text) return invalid('text', 'Write something to remember.');
  if (draft.text.length > MEMORY_LIMITS.text) {
    return invalid(
      'text',
      `A memory is at most ${MEMORY_LIMITS.text.toLocaleString('en')} characters (this one has ${draft.text.length.toLocaleString('en')}).`,
    );
  }
  if (draft.tags.length > MEMORY_LIMITS.tags) return invalid('tags', `At most ${MEMORY_LIMITS.tags} tags.`);
  const long = draft.tags.find((t) => t.length < 1 || t.length > MEMORY_LIMITS.tagLength);
  if (long !== undefined)
    return invalid(
      'tags',
      `Tags are 1-${MEMORY_LIMITS.tagLength} characters ("${long.slice(0, 20)}…" is not).`,
    );
  if (draft.expiry) {
    const at = new Date(draft.expiry);
    if (Number.isNaN(at.getTime())) return invalid('expiration_date', 'Enter a valid expiry date and time.');
    if (at.getTime() <= now.getTime()) return invalid('expiration_date', 'The expiry must be in the future.');
  }
  if (draft.permission === 'shared' && draft.users.length === 0 && draft.groupIds.length === 0) {
    return invalid('shared_with', 'Choose at least one person or group to share with.');
  }
  return null;
}

function sharedWith(draft: MemoryDraft): { users: string[]; groups: string[] } {
  return { users: draft.users.map((u) => u.user_id), groups: [...draft.groupIds] };
}

export function buildSubmit(draft: MemoryDraft): BffToolInput<'submit_memory'> {
  const input: BffToolInput<'submit_memory'> = { text: draft.text, permission: draft.permission };
  if (draft.tags.length) input.tags = [...draft.tags];
  if (draft.expiry) input.expiration_date = fromLocalInput(draft.expiry);
  if (draft.permission === 'shared') input.shared_with = sharedWith(draft);
  return input;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

/**
 * An edit as the calls it needs: update_memory for text, tags and expiry (only what changed), and
 * modify_permissions when the permission or the people and groups changed. Either may be null.
 */
export function buildEdit(
  original: Memory,
  draft: MemoryDraft,
): { update: BffToolInput<'update_memory'> | null; permissions: BffToolInput<'modify_permissions'> | null } {
  const update: BffToolInput<'update_memory'> = { memory_id: original.id };
  let changed = false;
  if (draft.text !== original.text) {
    update.text = draft.text;
    changed = true;
  }
  if (!sameSet(draft.tags, original.tags) || draft.tags.join() !== original.tags.join()) {
    update.tags = [...draft.tags];
    changed = true;
  }
  const newExpiry = draft.expiry ? fromLocalInput(draft.expiry) : null;
  const oldExpiry = original.expiration_date ? fromLocalInput(toLocalInput(original.expiration_date)) : null;
  if (newExpiry !== oldExpiry) {
    update.expiration_date = newExpiry;
    changed = true;
  }

  const share = sharedWith(draft);
  const permissionChanged =
    draft.permission !== original.permission ||
    (draft.permission === 'shared' &&
      (!sameSet(share.users, original.shared_with?.users ?? []) ||
        !sameSet(share.groups, original.shared_with?.groups ?? [])));
  const permissions: BffToolInput<'modify_permissions'> | null = permissionChanged
    ? {
        memory_id: original.id,
        permission: draft.permission,
        ...(draft.permission === 'shared' ? { shared_with: share } : {}),
      }
    : null;
  return { update: changed ? update : null, permissions };
}
