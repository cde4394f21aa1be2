import { invalid, isUuid } from '@picard/service-kit';

/** The directory's bounds; the gateway repeats them in list_personas' schema. */
export const DIRECTORY_LIMITS = { query: 100, defaultPage: 20, maxPage: 100 } as const;

/** Where the previous page ended in (display_name, user_id) order. */
export interface DirectoryPosition {
  displayName: string;
  userId: string;
}

/** The search text as matched: trimmed, empty meaning "every listed persona". */
export function directoryQuery(query: string): string {
  const q = query.trim();
  // PostgreSQL refuses NUL in text; refusing it here keeps that a 400 instead of a 500.
  if (q.includes('\u0000')) throw invalid('query', 'query must not contain NUL characters');
  if ([...q].length > DIRECTORY_LIMITS.query) {
    throw invalid('query', `query must be at most ${DIRECTORY_LIMITS.query} characters`);
  }
  return q;
}

/** 0 is proto3's "not given". */
export function directoryPageSize(limit: number): number {
  if (limit === 0) return DIRECTORY_LIMITS.defaultPage;
  if (!Number.isInteger(limit) || limit < 1 || limit > DIRECTORY_LIMITS.maxPage) {
    throw invalid('limit', `limit must be an integer from 1 to ${DIRECTORY_LIMITS.maxPage}`);
  }
  return limit;
}

/** Opaque to callers: base64url JSON of the last persona's keyset position. */
export const encodeDirectoryCursor = (p: DirectoryPosition): string =>
  Buffer.from(JSON.stringify({ n: p.displayName, u: p.userId }), 'utf8').toString('base64url');

export function decodeDirectoryCursor(cursor: string): DirectoryPosition {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { n?: unknown; u?: unknown };
    if (typeof c.n === 'string' && !c.n.includes('\u0000') && isUuid(c.u)) {
      return { displayName: c.n, userId: c.u.toLowerCase() };
    }
  } catch {
    // fall through to the one error below
  }
  throw invalid('cursor', 'cursor is not one this service issued');
}
