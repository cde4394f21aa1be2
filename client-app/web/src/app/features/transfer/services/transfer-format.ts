import type { ExportFormat, ImportFormat } from '@contract/bff-api';

export const EXPORT_FORMATS: { value: ExportFormat; label: string }[] = [
  { value: 'json', label: 'JSON' },
  { value: 'ndjson', label: 'NDJSON (one memory per line)' },
  { value: 'csv', label: 'CSV' },
  { value: 'markdown', label: 'Markdown' },
];

export const IMPORT_FORMATS: { value: ImportFormat; label: string }[] = [
  ...EXPORT_FORMATS.map((f) => ({ ...f, label: `Picard ${f.label}` })),
  { value: 'mcp-memory', label: 'MCP memory server (memory.json)' },
  { value: 'mem0', label: 'mem0 export' },
  { value: 'text', label: 'Text or Markdown list (one memory per line)' },
];

/**
 * A file's format from its name and its first characters; null when neither says. The contents win:
 * the MCP memory server's memory.json is JSON lines whatever its name, and a Markdown file is
 * Picard's own export only when it has Picard's memory blocks.
 */
export function guessImportFormat(name: string, head: string): ImportFormat | null {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  const start = head.replace(/^\uFEFF/, '').trimStart();
  const firstLine = start.split('\n', 1)[0] ?? '';
  if (
    /^\{.*"type"\s*:\s*"(entity|relation)"/.test(firstLine) ||
    /^\{\s*"(entities|relations)"\s*:/.test(start)
  ) {
    return 'mcp-memory';
  }
  // mem0's records carry their text as "memory"; Picard's own as "text".
  if ((ext === 'json' || ext === '') && /^[[{]/.test(start) && /"memory"\s*:\s*"/.test(start)) return 'mem0';
  if (ext === 'json') return 'json';
  if (ext === 'ndjson' || ext === 'jsonl') return 'ndjson';
  if (ext === 'csv') return 'csv';
  if (ext === 'md' || ext === 'markdown') return head.includes('picard-memor') ? 'markdown' : 'text';
  if (ext === 'txt') return 'text';
  return null;
}

export function exportUrl(format: ExportFormat, includeHistory = false): string {
  return `/bff/exports?format=${encodeURIComponent(format)}${includeHistory ? '&include_history=true' : ''}`;
}
