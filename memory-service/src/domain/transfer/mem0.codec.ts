import { invalid } from '@picard/service-kit';
import { decodeItem, isObject } from './item.decode.js';
import { collect } from './json.codec.js';
import type { ImportParseResult } from './transfer.model.js';

/**
 * A mem0 export: what `Memory.get_all()` / the platform's `GET /v1/memories/` answer, saved to a
 * file — `{results: [...]}`, `{memories: [...]}` or a bare list of `{id, memory, user_id,
 * categories, metadata, created_at, updated_at, expiration_date}`. The text is `memory`; mem0's
 * categories become tags; dates are kept; metadata has no counterpart and is left out.
 */
export function parseMem0(data: string, maxItems: number): ImportParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(data.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw invalid('data', `data is not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : isObject(doc) ? (doc.results ?? doc.memories) : undefined;
  if (!Array.isArray(list)) {
    throw invalid('data', 'a mem0 export must be a list of memories or an object with a "results" list');
  }
  if (list.length > maxItems)
    throw invalid('data', `at most ${maxItems} memories per import (got ${list.length})`);
  return collect(
    list.map((raw, i) => {
      if (!isObject(raw)) return decodeItem(i, raw);
      const text = raw.memory ?? raw.text;
      if (typeof text !== 'string') {
        const message = `memory ${i}: memory must be a string (the memory's text)`;
        return { errors: [{ index: i, code: 'invalid_argument' as const, message, field: 'memory' }] };
      }
      return decodeItem(i, {
        text,
        tags: raw.categories ?? undefined,
        created_at: raw.created_at,
        updated_at: raw.updated_at,
        expiration_date: raw.expiration_date,
        id: raw.id,
        user_id: raw.user_id,
      });
    }),
  );
}
