import type { Logger } from '../logger.js';
import {
  subjectMatches,
  type BusHealth,
  type BusMessage,
  type EventBus,
  type SubscribeOptions,
  type Subscription,
} from './event-bus.js';

interface Consumer extends SubscribeOptions {
  active: boolean;
  /** Messages published to it and not yet handled. */
  pending: number;
}

const MAX_SEEN = 10_000;

/**
 * The embedded mode's bus: delivery happens on a later tick (never inside the publisher's
 * transaction), failed handlers are retried with backoff, and redeliveries of one id are dropped
 * per durable consumer, as JetStream's dedup would. Subscribers that share a durable name share
 * its messages, each message going to one of them, as with a JetStream durable consumer: so a
 * listener that must hear everything per instance shows its missing name here too, not only
 * against NATS.
 */
export class InProcessEventBus implements EventBus {
  readonly kind = 'in-process' as const;
  private readonly consumers: Consumer[] = [];
  /** Ids delivered per durable name. */
  private readonly seen = new Map<string, Set<string>>();
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly retryDelaysMs: number[] = [50, 200, 1000, 5000],
  ) {}

  async publish(message: BusMessage): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    const named = new Map<string, Consumer[]>();
    for (const consumer of this.consumers) {
      if (!consumer.active || !consumer.subjects.some((s) => subjectMatches(s, message.subject))) continue;
      const sharing = named.get(consumer.durable);
      if (sharing) sharing.push(consumer);
      else named.set(consumer.durable, [consumer]);
    }
    for (const [durable, sharing] of named) {
      const seen = this.seen.get(durable) ?? new Set<string>();
      this.seen.set(durable, seen);
      if (seen.has(message.id)) continue;
      seen.add(message.id);
      if (seen.size > MAX_SEEN) seen.delete(seen.values().next().value as string);
      // The least busy of the subscribers sharing the name (the first of equals).
      const consumer = sharing.reduce((a, b) => (b.pending < a.pending ? b : a));
      consumer.pending++;
      setImmediate(() => void this.deliver(consumer, message, 0));
    }
  }

  private async deliver(consumer: Consumer, message: BusMessage, attempt: number): Promise<void> {
    if (!consumer.active) return;
    try {
      await consumer.handler(message);
      consumer.pending--;
    } catch (err) {
      const delay = this.retryDelaysMs[Math.min(attempt, this.retryDelaysMs.length - 1)] ?? 1000;
      this.logger.warn(
        { err, subject: message.subject, durable: consumer.durable, attempt },
        'handler failed, retrying',
      );
      setTimeout(() => void this.deliver(consumer, message, attempt + 1), delay).unref();
    }
  }

  async health(): Promise<BusHealth> {
    const consumers: Record<string, number> = {};
    for (const c of this.consumers)
      if (c.active) consumers[c.durable] = (consumers[c.durable] ?? 0) + c.pending;
    return { kind: this.kind, connected: !this.closed, consumers };
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const consumer: Consumer = { ...options, active: true, pending: 0 };
    this.consumers.push(consumer);
    return {
      stop: async () => {
        consumer.active = false;
        this.consumers.splice(this.consumers.indexOf(consumer), 1);
        if (!this.consumers.some((c) => c.durable === consumer.durable)) this.seen.delete(consumer.durable);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.consumers) c.active = false;
    this.consumers.length = 0;
    this.seen.clear();
  }
}
