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
  seen: Set<string>;
  active: boolean;
  /** Messages published to it and not yet handled. */
  pending: number;
}

const MAX_SEEN = 10_000;

/**
 * The embedded mode's bus: delivery happens on a later tick (never inside the publisher's
 * transaction), failed handlers are retried with backoff, and redeliveries of one id are dropped
 * per durable consumer, as JetStream's dedup would.
 */
export class InProcessEventBus implements EventBus {
  readonly kind = 'in-process' as const;
  private readonly consumers: Consumer[] = [];
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly retryDelaysMs: number[] = [50, 200, 1000, 5000],
  ) {}

  async publish(message: BusMessage): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    for (const consumer of this.consumers) {
      if (!consumer.active || !consumer.subjects.some((s) => subjectMatches(s, message.subject))) continue;
      if (consumer.seen.has(message.id)) continue;
      consumer.seen.add(message.id);
      if (consumer.seen.size > MAX_SEEN) consumer.seen.delete(consumer.seen.values().next().value as string);
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
    const consumer: Consumer = { ...options, seen: new Set(), active: true, pending: 0 };
    this.consumers.push(consumer);
    return {
      stop: async () => {
        consumer.active = false;
        this.consumers.splice(this.consumers.indexOf(consumer), 1);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.consumers) c.active = false;
    this.consumers.length = 0;
  }
}
