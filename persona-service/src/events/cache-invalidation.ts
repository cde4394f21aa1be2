import { randomBytes } from 'node:crypto';
import { eventSchemas } from '@picard/proto';
import type { EventBus, Logger, Subscription } from '@picard/service-kit';
import type { AnswerCache } from '../domain/answer-cache.js';

const SUBJECTS = ['memory.created', 'memory.updated', 'memory.deleted', 'memory.permission_changed'] as const;

/**
 * Every instance keeps its own cache, so every instance needs every event: the consumer is per
 * instance (random name) and ephemeral, so the server drops it once the instance is gone.
 */
export function subscribeCacheInvalidation(
  bus: EventBus,
  cache: AnswerCache,
  logger: Logger,
): Promise<Subscription> {
  return bus.subscribe({
    durable: `persona-cache-${randomBytes(6).toString('hex')}`,
    ephemeral: true,
    subjects: [...SUBJECTS],
    handler: async (message) => {
      const schema = eventSchemas[message.subject as (typeof SUBJECTS)[number]];
      const parsed = schema?.safeParse(message.payload);
      if (!parsed?.success) {
        logger.warn({ subject: message.subject, id: message.id }, 'ignoring a malformed memory event');
        return;
      }
      const dropped = cache.invalidateUser(parsed.data.user_id.toLowerCase());
      if (dropped)
        logger.debug(
          { subject: message.subject, userId: parsed.data.user_id, dropped },
          'answers invalidated',
        );
    },
  });
}
