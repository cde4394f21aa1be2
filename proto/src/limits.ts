/**
 * Limits shared by more than one service, defined once.
 *
 * One import file (import_memories) and one export file (export_memories) hold at most
 * TRANSFER_MAX_ITEMS memories and TRANSFER_MAX_CHARS of text, counted in UTF-16 code units
 * (JavaScript's `string.length`). memory-service enforces both ways, so every export can be
 * imported again; the gateway sizes the HTTP body of an import call from them.
 */
export const TRANSFER_MAX_ITEMS = 10_000;
export const TRANSFER_MAX_CHARS = 8 * 1024 * 1024;
