import type { TransferFormat } from '@contract/bff-api';

export const FORMATS: { value: TransferFormat; label: string; ext: string }[] = [
  { value: 'json', label: 'JSON', ext: 'json' },
  { value: 'ndjson', label: 'NDJSON (one memory per line)', ext: 'ndjson' },
  { value: 'csv', label: 'CSV', ext: 'csv' },
  { value: 'markdown', label: 'Markdown', ext: 'md' },
];

/** A file's format from its name; null when the extension says nothing. */
export function formatFromFileName(name: string): TransferFormat | null {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (ext === 'json') return 'json';
  if (ext === 'ndjson' || ext === 'jsonl') return 'ndjson';
  if (ext === 'csv') return 'csv';
  if (ext === 'md' || ext === 'markdown') return 'markdown';
  return null;
}

export function exportUrl(format: TransferFormat): string {
  return `/bff/exports?format=${encodeURIComponent(format)}`;
}
