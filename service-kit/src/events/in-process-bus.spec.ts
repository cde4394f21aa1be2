import { describe, expect, it } from '@jest/globals';
import { InProcessEventBus } from './in-process-bus.js';
import { createLogger } from '../logger.js';
import type { BusMessage } from './event-bus.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const message = (i: number): BusMessage => ({ id: `m${i}`, subject: 'auth.token.revoked', payload: { i } });

function listener(bus: InProcessEventBus, durable: string) {
  const got: string[] = [];
  const ready = bus.subscribe({
    durable,
    subjects: ['auth.>'],
    handler: async (m) => void got.push(m.id),
  });
  return { got, ready };
}

describe('InProcessEventBus: durable names, as JetStream has them', () => {
  it('gives every message to each durable name, and to one subscriber of those sharing a name', async () => {
    const bus = new InProcessEventBus(createLogger('bus-test', 'silent'));
    const a = listener(bus, 'gateway-a');
    const b = listener(bus, 'gateway-b');
    const shared = [listener(bus, 'workers'), listener(bus, 'workers')];
    await Promise.all([a, b, ...shared].map((l) => l.ready));
    for (let i = 0; i < 10; i++) await bus.publish(message(i));
    await settle();
    const all = Array.from({ length: 10 }, (_, i) => `m${i}`);
    expect(a.got).toEqual(all);
    expect(b.got).toEqual(all);
    // Between them, the two "workers" handled each message once; each handled some.
    expect([...shared[0]!.got, ...shared[1]!.got].sort()).toEqual([...all].sort());
    expect(shared.map((l) => l.got.length > 0)).toEqual([true, true]);
    await bus.close();
  });

  it('drops a redelivered id per name, and forgets a name once its last subscriber has stopped', async () => {
    const bus = new InProcessEventBus(createLogger('bus-test', 'silent'));
    const first = listener(bus, 'deny-list');
    const subscription = await first.ready;
    await bus.publish(message(1));
    await bus.publish(message(1));
    await settle();
    expect(first.got).toEqual(['m1']);
    await subscription.stop();
    const again = listener(bus, 'deny-list');
    await again.ready;
    await bus.publish(message(1));
    await settle();
    expect(again.got).toEqual(['m1']);
    await bus.close();
  });
});
