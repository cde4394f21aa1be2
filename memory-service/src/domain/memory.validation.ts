import { forbidden, invalid, type Caller } from '@picard/service-kit';
import type { NewMemoryInput, PermissionName } from './memory.model.js';

export const SCOPE_READ = 'memories:read';
export const SCOPE_WRITE = 'memories:write';
export const MAX_TAGS = 20;
export const MAX_TAG_CHARS = 64;

export function requireScope(caller: Caller, scope: string): void {
  if (!caller.scopes.includes(scope)) throw forbidden(`this call needs the ${scope} scope`);
}

/** Text that is blank after trimming or longer than the limit never reaches the embedder. */
export function checkText(field: string, text: string, maxChars: number): string {
  if (text.trim().length === 0) throw invalid(field, `${field} must not be empty`);
  if (text.length > maxChars) throw invalid(field, `${field} is longer than ${maxChars} characters (got ${text.length})`);
  return text;
}

export function checkLimit(limit: number, fallback: number, max: number): number {
  if (limit === 0) return fallback;
  if (!Number.isInteger(limit) || limit < 0 || limit > max) {
    throw invalid('limit', `limit must be between 1 and ${max}`);
  }
  return limit;
}

export interface CheckedNewMemory {
  text: string;
  permission: Exclude<PermissionName, 'shared'>;
  expirationDate: Date | null;
  tags: string[];
}

export function checkNewMemory(input: NewMemoryInput, maxChars: number, now = new Date()): CheckedNewMemory {
  const text = checkText('text', input.text, maxChars);
  if (input.permission === 'unspecified') {
    throw invalid('permission', 'permission must be PERMISSION_PRIVATE or PERMISSION_PUBLIC');
  }
  if (input.permission === 'shared') {
    throw invalid('permission', 'shared memories come with issue #4; use PERMISSION_PRIVATE or PERMISSION_PUBLIC');
  }
  if (input.sharedWith.users.length || input.sharedWith.groups.length) {
    throw invalid('shared_with', 'shared_with applies to shared memories only');
  }
  let expirationDate: Date | null = null;
  if (input.expirationDate) {
    if (Number.isNaN(input.expirationDate.getTime()) || input.expirationDate.getTime() <= now.getTime()) {
      throw invalid('expiration_date', 'expiration_date must be in the future');
    }
    expirationDate = input.expirationDate;
  }
  if (input.tags.length > MAX_TAGS) throw invalid('tags', `at most ${MAX_TAGS} tags`);
  const tags = input.tags.map((tag, i) => {
    const t = tag.trim();
    if (t.length === 0 || t.length > MAX_TAG_CHARS) {
      throw invalid(`tags[${i}]`, `tags[${i}] must be 1 to ${MAX_TAG_CHARS} characters`);
    }
    return t;
  });
  return { text, permission: input.permission, expirationDate, tags: [...new Set(tags)] };
}
