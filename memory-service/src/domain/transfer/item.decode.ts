import type { PermissionName } from '../memory.model.js';
import type { ImportItem, ImportItemError } from './transfer.model.js';

const PERMISSIONS: readonly string[] = ['private', 'public', 'shared'];

// A time of day needs an explicit zone: "10:00" alone would be read in the importing server's zone.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;

export function parseIsoDate(value: string): Date | undefined {
  const s = value.trim();
  if (!ISO_DATE.test(s)) return undefined;
  const d = new Date(s.replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Turns one loosely typed record (a parsed JSON object, or CSV cells already split into lists) into
 * an import item, collecting every structural problem with the field it concerns. Limits that
 * depend on configuration (text length, tag count, UUIDs, future expiry) stay with the service's
 * own validation, which runs on the items afterwards.
 */
export function decodeItem(index: number, raw: unknown): { item?: ImportItem; errors: ImportItemError[] } {
  const errors: ImportItemError[] = [];
  const fail = (field: string | undefined, message: string) =>
    errors.push({
      index,
      code: 'invalid_argument',
      message: `memory ${index}: ${message}`,
      ...(field ? { field } : {}),
    });
  if (!isObject(raw)) {
    fail(undefined, 'must be an object');
    return { errors };
  }

  const text = raw.text;
  if (typeof text !== 'string') fail('text', 'text must be a string');
  else if (text.trim().length === 0) fail('text', 'text must not be empty');

  let permission: PermissionName = 'private';
  if (raw.permission !== undefined && raw.permission !== null && raw.permission !== '') {
    const p = typeof raw.permission === 'string' ? raw.permission.trim().toLowerCase() : undefined;
    if (p && PERMISSIONS.includes(p)) permission = p as PermissionName;
    else fail('permission', 'permission must be "private", "public" or "shared"');
  }

  const tags = stringList(raw.tags, 'tags', fail);
  const users = isObject(raw.shared_with) ? stringList(raw.shared_with.users, 'shared_with.users', fail) : [];
  const groups = isObject(raw.shared_with)
    ? stringList(raw.shared_with.groups, 'shared_with.groups', fail)
    : [];
  if (raw.shared_with !== undefined && raw.shared_with !== null && !isObject(raw.shared_with)) {
    fail('shared_with', 'shared_with must be an object {users, groups}');
  }

  const expirationDate = optionalDate(raw.expiration_date, 'expiration_date', fail);
  const createdAt = optionalDate(raw.created_at, 'created_at', fail);
  const updatedAt = optionalDate(raw.updated_at, 'updated_at', fail);

  if (errors.length) return { errors };
  return {
    errors,
    item: {
      index,
      text: text as string,
      permission,
      tags,
      sharedWith: { users, groups },
      ...(expirationDate ? { expirationDate } : {}),
      ...(createdAt ? { createdAt } : {}),
      ...(updatedAt ? { updatedAt } : {}),
      ...(typeof raw.id === 'string' && raw.id ? { sourceId: raw.id } : {}),
      ...(typeof raw.user_id === 'string' && raw.user_id ? { sourceUserId: raw.user_id } : {}),
    },
  };
}

function stringList(value: unknown, field: string, fail: (field: string, message: string) => void): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    fail(field, `${field} must be a list of strings`);
    return [];
  }
  value.forEach((v, i) => {
    if (typeof v !== 'string') fail(`${field}[${i}]`, `${field}[${i}] must be a string`);
  });
  return value.filter((v): v is string => typeof v === 'string');
}

function optionalDate(
  value: unknown,
  field: string,
  fail: (field: string, message: string) => void,
): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const d = typeof value === 'string' ? parseIsoDate(value) : undefined;
  if (!d) fail(field, `${field} must be an ISO 8601 date-time with a time zone (e.g. 2026-01-31T12:00:00Z)`);
  return d;
}
