import { invalid, isUuid } from '@picard/service-kit';
import type { UserRow } from '../store/users.store.js';

/** An opaque page cursor: the last row's creation time (ms) and id, base64url JSON. */
export const encodeCursor = (u: UserRow): string =>
  Buffer.from(JSON.stringify({ t: u.created_at.toISOString(), id: u.id })).toString('base64url');

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown };
    const createdAt = new Date(String(v.t));
    if (typeof v.id === 'string' && isUuid(v.id) && !Number.isNaN(createdAt.getTime()))
      return { createdAt, id: v.id };
  } catch {
    // fall through
  }
  throw invalid('cursor', 'cursor is not one this service returned');
}
