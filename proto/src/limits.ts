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
 * memory-service's bounds on what a request carries. The gateway's schemas use the same numbers,
 * so REST and MCP callers get a 400 naming the field before any gRPC hop (and see the bounds in
 * the schemas); the service checks them again. Lengths are UTF-16 code units (`string.length`).
 */
export const MEMORY_LIMITS = {
  /** Tags of a memory, and of a tag filter; each 1-tagChars after trimming. */
  tags: 20,
  tagChars: 64,
  /** A shared memory's shared_with lists. */
  sharedUsers: 100,
  sharedGroups: 20,
  /** Items of one SubmitMemories or DeleteMemories call. */
  batch: 500,
  groupNameChars: 100,
  /** Page sizes: `default` when a request leaves limit 0 (proto3's "not set"), at most `max`. */
  retrievePage: { default: 100, max: 1000 },
  queryPage: { default: 10, max: 100 },
  listPage: { default: 50, max: 500 },
  /** GetMemoryHistory's page of earlier versions. */
  historyPage: { default: 20, max: 100 },
} as const;

/**
 * persona-service's bounds: a persona's settings (UpdatePersona), QueryUser's prompt and limit
 * (memoryLimit's range), and the directory (ListPersonas). Lengths count code points, as
 * PostgreSQL counts varchar length. The gateway's schemas repeat them from here.
 */
export const PERSONA_LIMITS = {
  displayName: 100,
  description: 1000,
  tone: 100,
  model: 100,
  tag: 50,
  tags: 20,
  temperature: { min: 0, max: 2 },
  maxTokens: { min: 1, max: 4096 },
  memoryLimit: { min: 1, max: 50 },
  prompt: 4000,
  directoryQuery: 100,
  directoryPage: { min: 1, max: 100, default: 20 },
} as const;

/** auth-service's bounds on LookupUsers; the gateway's lookup_users repeats them from here. */
export const LOOKUP_LIMITS = { usernames: 20, userIds: 100, username: 64 } as const;

/** auth-service's bounds the gateway's admin routes repeat: a client's name (trimmed), ListUsers' page. */
export const AUTH_LIMITS = {
  clientNameChars: 200,
  userPage: { default: 50, max: 200 },
} as const;

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
