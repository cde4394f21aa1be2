// The contracts: generated gRPC types (namespaced, because the files share message names)
// and the schemas of the events services publish on the bus.
export * as authPb from './gen/picard/v1/auth.js';
export * as memoryPb from './gen/picard/v1/memory.js';
export * as embeddingPb from './gen/picard/v1/embedding.js';
export * as personaPb from './gen/picard/v1/persona.js';
export * as rateLimitPb from './gen/picard/v1/rate_limit.js';
export { EVENT_SUBJECTS, eventSchemas, type EventSubject, type EventPayload } from './events.js';
export {
  AUTH_LIMITS,
  LOOKUP_LIMITS,
  MEMORY_LIMITS,
  PERSONA_LIMITS,
  REMEMBER_MAX_FACTS,
  REMEMBER_MAX_MESSAGE_CHARS,
  REMEMBER_MAX_MESSAGES,
  REMEMBER_MAX_TOTAL_CHARS,
  TRANSFER_MAX_CHARS,
  TRANSFER_MAX_ITEMS,
} from './limits.js';
export { SCOPES, ALL_SCOPES, type Scope } from './scopes.js';
export { EXPORT_FORMATS, IMPORT_FORMATS, type ExportFormat, type ImportFormat } from './transfer-formats.js';
