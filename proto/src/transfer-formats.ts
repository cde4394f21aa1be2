/**
 * File formats of export_memories / import_memories, defined once for the gateway's schemas and
 * memory-service. Picard writes its own four; it also reads the files other memory tools leave:
 * the reference MCP memory server's knowledge graph (`mcp-memory`), a mem0 export (`mem0`) and a
 * plain text or Markdown list (`text`: one memory per line or bullet).
 */
export const EXPORT_FORMATS = ['json', 'ndjson', 'csv', 'markdown'] as const;
export const IMPORT_FORMATS = [...EXPORT_FORMATS, 'mcp-memory', 'mem0', 'text'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
