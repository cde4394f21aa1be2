import { invalid } from '@picard/service-kit';
import { decodeItem } from './item.decode.js';
import { toExported, type ExportRecord, type ImportParseResult } from './transfer.model.js';

export const JSON_EXPORT_KIND = 'picard.memories';
export const JSON_EXPORT_VERSION = 1;

export function exportJson(records: ExportRecord[]): string {
  const doc = {
    format: JSON_EXPORT_KIND,
    version: JSON_EXPORT_VERSION,
    count: records.length,
    memories: records.map(toExported),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** One memory per line; JSON escapes every line break inside strings, so lines never split a memory. */
export function exportNdjson(records: ExportRecord[]): string {
  return records.map((r) => `${JSON.stringify(toExported(r))}\n`).join('');
}

/** Accepts the export document or a bare array of memories. */
export function parseJson(data: string, maxItems: number): ImportParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(data);
  } catch (err) {
    throw invalid('data', `data is not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { memories?: unknown } | null)?.memories;
  if (!Array.isArray(list)) {
    throw invalid('data', 'JSON data must be an array of memories or an object with a "memories" array');
  }
  if (list.length > maxItems)
    throw invalid('data', `at most ${maxItems} memories per import (got ${list.length})`);
  return collect(list.map((raw, i) => decodeItem(i, raw)));
}

export function parseNdjson(data: string, maxItems: number): ImportParseResult {
  const lines = data.split(/\r?\n/);
  const results: ReturnType<typeof decodeItem>[] = [];
  lines.forEach((line, lineNo) => {
    if (line.trim() === '') return;
    const index = results.length;
    if (index >= maxItems) throw invalid('data', `at most ${maxItems} memories per import`);
    try {
      results.push(decodeItem(index, JSON.parse(line)));
    } catch (err) {
      const message = `memory ${index} (line ${lineNo + 1}) is not valid JSON: ${(err as Error).message}`;
      results.push({ errors: [{ index, code: 'invalid_argument', message }] });
    }
  });
  return collect(results);
}

export function collect(results: ReturnType<typeof decodeItem>[]): ImportParseResult {
  const out: ImportParseResult = { items: [], errors: [] };
  for (const r of results) {
    if (r.item) out.items.push(r.item);
    out.errors.push(...r.errors);
  }
  return out;
}
