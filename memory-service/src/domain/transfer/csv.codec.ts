import { stringify } from 'csv-stringify/sync';
import { invalid } from '@picard/service-kit';
import { parseCsv } from './csv.js';
import { decodeItem } from './item.decode.js';
import { collect } from './json.codec.js';
import { toExported, type ExportRecord, type ImportParseResult } from './transfer.model.js';

export const CSV_COLUMNS = [
  'id',
  'user_id',
  'text',
  'permission',
  'tags',
  'expiration_date',
  'created_at',
  'updated_at',
  'shared_with_users',
  'shared_with_groups',
] as const;

/** With include_history, one more column: the earlier versions as a JSON array (imports ignore it). */
export const CSV_HISTORY_COLUMN = 'history';

/**
 * RFC 4180 with CRLF records. csv-stringify quotes a field with a comma, a quote or CRLF; a lone CR or
 * LF must be quoted too (a reader would end the record there), and so is edge whitespace, which
 * spreadsheets would otherwise trim. Lists are written as JSON arrays, so a tag may hold any character
 * (a ';' or ',' included).
 */
export function exportCsv(records: ExportRecord[], withHistory = false): string {
  const rows = records
    .map(toExported)
    .map((r) => [
      r.id,
      r.user_id,
      r.text,
      r.permission,
      JSON.stringify(r.tags),
      r.expiration_date ?? '',
      r.created_at,
      r.updated_at,
      r.shared_with ? JSON.stringify(r.shared_with.users) : '',
      r.shared_with ? JSON.stringify(r.shared_with.groups) : '',
      ...(withHistory ? [JSON.stringify(r.history ?? [])] : []),
    ]);
  const header = withHistory ? [...CSV_COLUMNS, CSV_HISTORY_COLUMN] : [...CSV_COLUMNS];
  return stringify([header, ...rows], { record_delimiter: '\r\n', quoted_match: /[\r\n]|^\s|\s$/ });
}

/** Columns are found by header name, in any order; unknown columns are ignored. */
export function parseCsvImport(data: string, maxItems: number): ImportParseResult {
  const rows = parseCsv(data);
  const header = rows.shift();
  if (!header || header.error)
    throw invalid('data', `CSV data needs a header row (${CSV_COLUMNS.join(',')})`);
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const dup = names.find((name, i) => name && names.indexOf(name) !== i);
  if (dup) throw invalid('data', `CSV header names column "${dup}" twice`);
  if (!names.includes('text')) throw invalid('data', 'CSV header must include a "text" column');

  const records = rows.filter((r) => r.fields.some((f) => f !== ''));
  if (records.length > maxItems)
    throw invalid('data', `at most ${maxItems} memories per import (got ${records.length})`);
  return collect(
    records.map((row, index) => {
      if (row.error || row.fields.length !== names.length) {
        const why =
          row.error ?? `line ${row.line}: ${row.fields.length} fields where the header has ${names.length}`;
        return { errors: [{ index, code: 'invalid_argument' as const, message: `memory ${index}: ${why}` }] };
      }
      const cell = new Map(names.map((name, i) => [name, row.fields[i]!]));
      const hasShares = cell.has('shared_with_users') || cell.has('shared_with_groups');
      return decodeItem(index, {
        id: cell.get('id'),
        user_id: cell.get('user_id'),
        text: cell.get('text'),
        permission: cell.get('permission'),
        tags: listCell(cell.get('tags')),
        expiration_date: cell.get('expiration_date'),
        created_at: cell.get('created_at'),
        updated_at: cell.get('updated_at'),
        ...(hasShares
          ? {
              shared_with: {
                users: listCell(cell.get('shared_with_users')),
                groups: listCell(cell.get('shared_with_groups')),
              },
            }
          : {}),
      });
    }),
  );
}

/**
 * A JSON array as written on export; hand-made files may use "a; b" instead. Anything else is
 * passed on as-is so the item decoder reports the field.
 */
function listCell(value: string | undefined): unknown {
  if (value === undefined || value.trim() === '') return [];
  if (value.trimStart().startsWith('[')) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}
