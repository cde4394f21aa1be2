import { invalid } from '@picard/service-kit';
import {
  EXPORT_FORMATS,
  IMPORT_FORMATS,
  TRANSFER_MAX_CHARS,
  TRANSFER_MAX_ITEMS,
  type ExportFormat,
  type ImportFormat,
} from '@picard/proto';
import type { MemoryRecord, MemoryVersionRecord, NewMemoryInput, PermissionName } from '../memory.model.js';

export { EXPORT_FORMATS, IMPORT_FORMATS, type ExportFormat, type ImportFormat };

/**
 * Caps on one import file, and so on one export file: 10,000 items and 8 MiB of text (UTF-16 code
 * units, i.e. `data.length`). Defined in @picard/proto, which the gateway reads too.
 */
export const MAX_IMPORT_ITEMS = TRANSFER_MAX_ITEMS;
export const MAX_IMPORT_CHARS = TRANSFER_MAX_CHARS;

/** One memory read from an import file, in file order. */
export interface ImportItem extends NewMemoryInput {
  /** Position in the file (0-based, counting memories, not lines); per-item errors use it too. */
  index: number;
  createdAt?: Date;
  updatedAt?: Date;
  /** The id and owner the memory had where it was exported; informational, never trusted. */
  sourceId?: string;
  sourceUserId?: string;
}

export interface ImportItemError {
  index: number;
  code: 'invalid_argument';
  message: string;
  /** The item's field at fault (`tags[2]`, `expiration_date`), when there is one. */
  field?: string;
}

export interface ImportParseResult {
  items: ImportItem[];
  errors: ImportItemError[];
}

export interface ParseLimits {
  maxItems?: number;
  maxChars?: number;
}

/** `format` as one of `formats` (case and surrounding blanks ignored), or invalid('format'). */
export function checkFormat<F extends string>(format: string, formats: readonly F[]): F {
  const f = format.trim().toLowerCase();
  if (!(formats as readonly string[]).includes(f)) {
    throw invalid('format', `format must be one of ${formats.join(', ')} (got "${format}")`);
  }
  return f as F;
}

/**
 * The wire shape of one exported memory, the same in every format (snake_case like the tools).
 * `shared_with` is present only when the exporter may know it (the owner's rows).
 */
export interface ExportedMemory {
  id: string;
  user_id: string;
  text: string;
  permission: PermissionName;
  tags: string[];
  expiration_date: string | null;
  created_at: string;
  updated_at: string;
  shared_with?: { users: string[]; groups: string[] };
  /** With include_history: the earlier versions, newest first. Imports ignore it. */
  history?: ExportedVersion[];
}

/** One earlier version in an export with include_history (the shape get_memory_history shows). */
export interface ExportedVersion {
  version: number;
  text: string;
  permission: PermissionName;
  shared_with: { users: string[]; groups: string[] };
  tags: string[];
  expiration_date: string | null;
  updated_at: string;
  changed_at: string;
  changed_by: string;
  change: MemoryVersionRecord['change'];
  restored_version: number | null;
}

/** A memory to export, with its earlier versions when the export includes them. */
export type ExportRecord = MemoryRecord & { history?: MemoryVersionRecord[] };

export function toExportedVersion(v: MemoryVersionRecord): ExportedVersion {
  return {
    version: v.version,
    text: v.text,
    permission: v.permission,
    shared_with: { users: [...v.sharedWith.users], groups: [...v.sharedWith.groups] },
    tags: [...v.tags],
    expiration_date: v.expirationDate ? v.expirationDate.toISOString() : null,
    updated_at: v.updatedAt.toISOString(),
    changed_at: v.changedAt.toISOString(),
    changed_by: v.changedBy,
    change: v.change,
    restored_version: v.restoredVersion,
  };
}

export function toExported(r: ExportRecord): ExportedMemory {
  const shared = r.sharedWith.users.length > 0 || r.sharedWith.groups.length > 0;
  return {
    id: r.id,
    user_id: r.userId,
    text: r.text,
    permission: r.permission,
    tags: [...r.tags],
    expiration_date: r.expirationDate ? r.expirationDate.toISOString() : null,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    ...(shared ? { shared_with: { users: [...r.sharedWith.users], groups: [...r.sharedWith.groups] } } : {}),
    ...(r.history ? { history: r.history.map(toExportedVersion) } : {}),
  };
}
