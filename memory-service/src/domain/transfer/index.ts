import { invalid, type DomainError } from '@picard/service-kit';
import { exportCsv, parseCsvImport } from './csv.codec.js';
import { exportJson, exportNdjson, parseJson, parseNdjson } from './json.codec.js';
import { exportMarkdown, parseMarkdown } from './markdown.codec.js';
import { parseMcpMemory } from './mcp-memory.codec.js';
import { parseMem0 } from './mem0.codec.js';
import { parseTextList } from './text-list.codec.js';
import {
  checkFormat,
  EXPORT_FORMATS,
  IMPORT_FORMATS,
  MAX_IMPORT_CHARS,
  MAX_IMPORT_ITEMS,
  type ImportItem,
  type ImportItemError,
  type ImportParseResult,
  type ParseLimits,
  type ExportRecord,
} from './transfer.model.js';

export {
  checkFormat,
  EXPORT_FORMATS,
  IMPORT_FORMATS,
  MAX_IMPORT_CHARS,
  MAX_IMPORT_ITEMS,
  type ExportedMemory,
  type ExportedVersion,
  type ExportRecord,
  type ExportFormat,
  type ImportFormat,
  type ImportItem,
  type ImportItemError,
  type ImportParseResult,
  type ParseLimits,
} from './transfer.model.js';

/**
 * The file text of `records` in `format`; throws invalid('format') for an unknown format. Records
 * carrying `history` export it (`withHistory` also gives an empty file its CSV column).
 */
export function exportMemories(format: string, records: ExportRecord[], withHistory = false): string {
  switch (checkFormat(format, EXPORT_FORMATS)) {
    case 'json':
      return exportJson(records);
    case 'ndjson':
      return exportNdjson(records);
    case 'csv':
      return exportCsv(records, withHistory);
    case 'markdown':
      return exportMarkdown(records);
  }
}

/**
 * Reads an import file: one of Picard's own formats, or a file another memory tool wrote. A problem
 * with the whole file (unknown format, too large, not JSON, no CSV header) throws a DomainError naming `format` or `data`; a problem with one memory becomes an
 * entry in `errors` with its index, and the other memories are still returned.
 */
export function parseImport(format: string, data: string, limits: ParseLimits = {}): ImportParseResult {
  const f = checkFormat(format, IMPORT_FORMATS);
  const maxItems = limits.maxItems ?? MAX_IMPORT_ITEMS;
  const maxChars = limits.maxChars ?? MAX_IMPORT_CHARS;
  if (typeof data !== 'string') throw invalid('data', 'data must be a string');
  if (data.length > maxChars)
    throw invalid('data', `data is longer than ${maxChars} characters (got ${data.length})`);
  if (data.trim() === '') throw invalid('data', 'data must not be empty');
  switch (f) {
    case 'json':
      return parseJson(data, maxItems);
    case 'ndjson':
      return parseNdjson(data, maxItems);
    case 'csv':
      return parseCsvImport(data, maxItems);
    case 'markdown':
      return parseMarkdown(data, maxItems);
    case 'mcp-memory':
      return parseMcpMemory(data, maxItems);
    case 'mem0':
      return parseMem0(data, maxItems);
    case 'text':
      return parseTextList(data, maxItems);
  }
}

/**
 * Runs the service's own per-memory validation over parsed items, turning each DomainError into
 * an item error (index + field) instead of failing the whole import.
 */
export function checkEach<T>(
  items: ImportItem[],
  check: (item: ImportItem) => T,
): { valid: { item: ImportItem; value: T }[]; errors: ImportItemError[] } {
  const valid: { item: ImportItem; value: T }[] = [];
  const errors: ImportItemError[] = [];
  for (const item of items) {
    try {
      valid.push({ item, value: check(item) });
    } catch (err) {
      const e = err as DomainError;
      if (e?.name !== 'DomainError' || e.code !== 'invalid_argument') throw err;
      errors.push({
        index: item.index,
        code: 'invalid_argument',
        message: `memory ${item.index}: ${e.message}`,
        ...(e.field ? { field: e.field } : {}),
      });
    }
  }
  return { valid, errors };
}
