import { assertUuid, invalid } from '@picard/service-kit';
import { MEMORY_LIMITS, SCOPES } from '@picard/proto';
import type { NewMemoryInput, PermissionName } from './memory.model.js';

export { requireScope } from '@picard/service-kit';
export const SCOPE_READ = SCOPES.read;
export const SCOPE_WRITE = SCOPES.write;

/** Text that is blank after trimming or longer than the limit never reaches the embedder. */
export function checkText(field: string, text: string, maxChars: number): string {
  if (text.trim().length === 0) throw invalid(field, `${field} must not be empty`);
  if (text.length > maxChars)
    throw invalid(field, `${field} is longer than ${maxChars} characters (got ${text.length})`);
  return text;
}

/** 0 is proto3's "not set": the page's default. */
export function checkLimit(limit: number, page: { default: number; max: number }): number {
  const { max } = page;
  if (limit === 0) return page.default;
  if (!Number.isInteger(limit) || limit < 0 || limit > max) {
    throw invalid('limit', `limit must be between 1 and ${max}`);
  }
  return limit;
}

export interface CheckedNewMemory {
  text: string;
  permission: PermissionName;
  expirationDate: Date | null;
  tags: string[];
  sharedWith: { users: string[]; groups: string[] };
}

type SharedWithInput = { users: string[]; groups: string[] };

/**
 * The one rule for a permission and its share list, used by submit and modify: SHARED needs at
 * least one user (never the owner) or group; PRIVATE and PUBLIC take no share list at all. Whether
 * the groups are the owner's to share with is checked by the service (it needs the database).
 */
export function checkPermission(
  permission: PermissionName | 'unspecified',
  sharedWith: SharedWithInput,
  ownerId: string,
): { permission: PermissionName; sharedWith: { users: string[]; groups: string[] } } {
  if (permission === 'unspecified') {
    throw invalid(
      'permission',
      'permission must be PERMISSION_PRIVATE, PERMISSION_PUBLIC or PERMISSION_SHARED',
    );
  }
  if (permission !== 'shared') {
    if (sharedWith.users.length || sharedWith.groups.length) {
      throw invalid('shared_with', 'shared_with applies to shared memories only');
    }
    return { permission, sharedWith: { users: [], groups: [] } };
  }
  if (sharedWith.users.length === 0 && sharedWith.groups.length === 0) {
    throw invalid('shared_with', 'a shared memory needs at least one user or group in shared_with');
  }
  if (sharedWith.users.length > MEMORY_LIMITS.sharedUsers) {
    throw invalid('shared_with.users', `at most ${MEMORY_LIMITS.sharedUsers} users in shared_with.users`);
  }
  if (sharedWith.groups.length > MEMORY_LIMITS.sharedGroups) {
    throw invalid('shared_with.groups', `at most ${MEMORY_LIMITS.sharedGroups} groups in shared_with.groups`);
  }
  const users = sharedWith.users.map((u, i) => {
    const id = assertUuid(`shared_with.users[${i}]`, u);
    if (id === ownerId)
      throw invalid(`shared_with.users[${i}]`, 'the owner cannot be listed in shared_with.users');
    return id;
  });
  const groups = sharedWith.groups.map((g, i) => assertUuid(`shared_with.groups[${i}]`, g));
  return { permission, sharedWith: { users: [...new Set(users)], groups: [...new Set(groups)] } };
}

/** Group shares name only groups the owner owns or belongs to; `field` prefixes the path in errors. */
export function checkShareableGroups(
  groups: readonly string[],
  ownGroupIds: readonly string[],
  field = 'shared_with.groups',
): void {
  groups.forEach((g, i) => {
    if (!ownGroupIds.includes(g))
      throw invalid(`${field}[${i}]`, `group ${g} not found among the groups you own or belong to`);
  });
}

export function checkExpiration(date: Date, now = new Date()): Date {
  if (Number.isNaN(date.getTime()) || date.getTime() <= now.getTime()) {
    throw invalid('expiration_date', 'expiration_date must be in the future');
  }
  return date;
}

/** Trimmed, de-duplicated tags; `field` names the list in errors (tags[i]). */
export function checkTags(tags: string[], field = 'tags'): string[] {
  if (tags.length > MEMORY_LIMITS.tags) throw invalid(field, `at most ${MEMORY_LIMITS.tags} tags`);
  const trimmed = tags.map((tag, i) => {
    const t = tag.trim();
    if (t.length === 0 || t.length > MEMORY_LIMITS.tagChars) {
      throw invalid(`${field}[${i}]`, `${field}[${i}] must be 1 to ${MEMORY_LIMITS.tagChars} characters`);
    }
    return t;
  });
  return [...new Set(trimmed)];
}

export function checkNewMemory(
  input: NewMemoryInput,
  maxChars: number,
  ownerId: string,
  now = new Date(),
): CheckedNewMemory {
  const text = checkText('text', input.text, maxChars);
  const { permission, sharedWith } = checkPermission(input.permission, input.sharedWith, ownerId);
  const expirationDate = input.expirationDate ? checkExpiration(input.expirationDate, now) : null;
  return { text, permission, expirationDate, tags: checkTags(input.tags), sharedWith };
}
