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

/**
 * One remember_conversation call: at most REMEMBER_MAX_MESSAGES messages of at most
 * REMEMBER_MAX_MESSAGE_CHARS each and REMEMBER_MAX_TOTAL_CHARS together (UTF-16 code units), and at
 * most REMEMBER_MAX_FACTS facts stored or judged. The gateway's schema and persona-service both
 * enforce them; the total keeps the extraction prompt inside a small model's context.
 */
export const REMEMBER_MAX_MESSAGES = 100;
export const REMEMBER_MAX_MESSAGE_CHARS = 4000;
export const REMEMBER_MAX_TOTAL_CHARS = 20_000;
export const REMEMBER_MAX_FACTS = 20;
