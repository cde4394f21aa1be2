import { invalid, isUuid } from '@picard/service-kit';

export interface PagePosition {
  createdKey: string;
  id: string;
}

/** Opaque to callers: base64url JSON of the last row's keyset position. */
export function encodeCursor(p: PagePosition): string {
  return Buffer.from(JSON.stringify({ t: p.createdKey, i: p.id }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): PagePosition {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      t?: unknown;
      i?: unknown;
    };
    if (typeof parsed.t === 'string' && !Number.isNaN(Date.parse(parsed.t)) && isUuid(parsed.i)) {
      return { createdKey: parsed.t, id: parsed.i };
    }
  } catch {
    // fall through to the one error below
  }
  throw invalid('cursor', 'cursor is not one this service issued');
}

/** GetMemories cursors also carry the sort they were issued for: reusing one under another sort is refused. */
export function encodeListCursor(sort: string, order: string, p: { key: string; id: string }): string {
  return Buffer.from(JSON.stringify({ s: sort, o: order, k: p.key, i: p.id }), 'utf8').toString('base64url');
}

export function decodeListCursor(cursor: string, sort: string, order: string): { key: string; id: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const validKey = typeof c.k === 'string' && (c.k === 'infinity' || !Number.isNaN(Date.parse(c.k)));
    if (c.s === sort && c.o === order && validKey && isUuid(c.i))
      return { key: c.k as string, id: c.i as string };
  } catch {
    // fall through to the one error below
  }
  throw invalid('cursor', 'cursor is not one this service issued for this sort and order');
}

/** GetMemoryHistory cursors: the last version shown, bound to its memory (another memory's is refused). */
export function encodeHistoryCursor(memoryId: string, version: number): string {
  return Buffer.from(JSON.stringify({ m: memoryId, v: version }), 'utf8').toString('base64url');
}

export function decodeHistoryCursor(cursor: string, memoryId: string): number {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (c.m === memoryId && Number.isInteger(c.v) && (c.v as number) > 0) return c.v as number;
  } catch {
    // fall through to the one error below
  }
  throw invalid('cursor', 'cursor is not one this service issued for this memory');
}
