import { waitForDependency } from '../dependency-wait.js';
import type { Logger } from '../logger.js';
import type { EventBus } from './event-bus.js';
import { InProcessEventBus } from './in-process-bus.js';
import { NatsEventBus } from './nats-bus.js';

/** NATS when a URL is configured; otherwise the in-process bus (only useful inside one process). */
export async function connectEventBus(
  natsUrl: string | undefined,
  name: string,
  logger: Logger,
): Promise<EventBus> {
  if (!natsUrl) return new InProcessEventBus(logger);
  return waitForDependency('NATS (NATS_URL)', () => NatsEventBus.connect(natsUrl, name, logger), { logger });
}
