import { z } from 'zod';

/**
 * Payloads of the events on the bus. They carry ids and metadata only: memory text never
 * travels in an event, so a private memory cannot leak through a subscriber.
 */
const memoryEvent = z.object({
  memory_id: z.uuid(),
  user_id: z.uuid(),
  permission: z.enum(['private', 'public', 'shared']),
  occurred_at: z.iso.datetime(),
});

export const eventSchemas = {
  'auth.user.created': z.object({ user_id: z.uuid(), username: z.string(), occurred_at: z.iso.datetime() }),
  'auth.user.deactivated': z.object({ user_id: z.uuid(), occurred_at: z.iso.datetime() }),
  'auth.token.revoked': z.object({
    jti: z.string(),
    expires_at: z.iso.datetime(),
    occurred_at: z.iso.datetime(),
  }),
  // Access tokens issued at or before cutoff_at that match every field given are invalid (a
  // deactivation, password change, client deletion, grant revocation or consent withdrawal).
  'auth.token.cutoff': z.object({
    user_id: z.uuid().optional(),
    client_id: z.string().optional(),
    family_id: z.uuid().optional(),
    cutoff_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
    occurred_at: z.iso.datetime(),
  }),
  'memory.created': memoryEvent,
  'memory.updated': memoryEvent,
  // reason: 'expired' when the sweeper removed it after the grace period.
  'memory.deleted': memoryEvent.extend({ reason: z.enum(['deleted', 'expired']).optional() }),
  'memory.permission_changed': memoryEvent.extend({
    previous_permission: z.enum(['private', 'public', 'shared']),
  }),
} as const;

export type EventSubject = keyof typeof eventSchemas;
export type EventPayload<S extends EventSubject> = z.infer<(typeof eventSchemas)[S]>;
export const EVENT_SUBJECTS = Object.keys(eventSchemas) as EventSubject[];
