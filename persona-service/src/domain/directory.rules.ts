import { invalid, isUuid } from '@picard/service-kit';
import { PERSONA_LIMITS } from '@picard/proto';

const QUERY_MAX_CHARS = PERSONA_LIMITS.directoryQuery;
const PAGE = PERSONA_LIMITS.directoryPage;

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
  if ([...q].length > QUERY_MAX_CHARS) {
    throw invalid('query', `query must be at most ${QUERY_MAX_CHARS} characters`);
  }
  return q;
}

/** 0 is proto3's "not given". */
export function directoryPageSize(limit: number): number {
  if (limit === 0) return PAGE.default;
  if (!Number.isInteger(limit) || limit < PAGE.min || limit > PAGE.max) {
    throw invalid('limit', `limit must be an integer from ${PAGE.min} to ${PAGE.max}`);
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
