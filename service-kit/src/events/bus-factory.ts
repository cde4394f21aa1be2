import { waitForDependency } from '../dependency-wait.js';
import { watchBus } from '../metrics.js';
import type { Logger } from '../logger.js';
import type { EventBus } from './event-bus.js';
import { InProcessEventBus } from './in-process-bus.js';

/**
 * NATS when a URL is configured; otherwise the in-process bus (only useful inside one process).
 * Either is watched under `name` (metrics, `/health`) until it is closed.
 */
export async function connectEventBus(
  natsUrl: string | undefined,
  name: string,
  logger: Logger,
): Promise<EventBus> {
  // The NATS client loads only when used: the embedded default never needs it (~50 ms of start-up).
  const bus = natsUrl
    ? await import('./nats-bus.js').then(({ NatsEventBus }) =>
        waitForDependency('NATS (NATS_URL)', () => NatsEventBus.connect(natsUrl, name, logger), {
          logger,
        }),
      )
    : new InProcessEventBus(logger);
  const unwatch = watchBus(name, bus);
  const close = bus.close.bind(bus);
  bus.close = async () => {
    unwatch();
    await close();
  };
  return bus;
}
