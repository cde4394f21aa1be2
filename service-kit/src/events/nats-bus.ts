import {
  AckPolicy,
  connect,
  DeliverPolicy,
  JSONCodec,
  RetentionPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { Logger } from '../logger.js';
import type { BusMessage, EventBus, SubscribeOptions, Subscription } from './event-bus.js';

const STREAM = 'PICARD';
const STREAM_SUBJECTS = ['auth.>', 'memory.>'];
const codec = JSONCodec<unknown>();

/**
 * NATS JetStream: one stream holds every event; each subscriber is a durable, explicit-ack
 * consumer per subject (server 2.9 allows one filter per consumer), and publishes carry the
 * event id as Nats-Msg-Id so a re-sent outbox row is stored once.
 */
export class NatsEventBus implements EventBus {
  readonly kind = 'nats' as const;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly logger: Logger,
  ) {}

  static async connect(url: string, name: string, logger: Logger): Promise<NatsEventBus> {
    const nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.info(STREAM);
    } catch {
      try {
        await jsm.streams.add({
          name: STREAM,
          subjects: STREAM_SUBJECTS,
          retention: RetentionPolicy.Limits,
          max_age: 7 * 24 * 3600 * 1e9,
          duplicate_window: 10 * 60 * 1e9,
        });
      } catch (err) {
        // Another service created it in the meantime.
        await jsm.streams.info(STREAM).catch(() => Promise.reject(err));
      }
    }
    logger.info({ url }, 'connected to NATS JetStream');
    return new NatsEventBus(nc, nc.jetstream(), jsm, logger);
  }

  async publish(message: BusMessage): Promise<void> {
    await this.js.publish(message.subject, codec.encode({ id: message.id, payload: message.payload }), {
      msgID: message.id,
      timeout: 5000,
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const running: ConsumerMessages[] = [];
    for (const subject of options.subjects) {
      const durable = `${options.durable}-${subject.replace(/[.*>]/g, (c) => ({ '.': '_', '*': 'STAR', '>': 'ALL' })[c]!)}`;
      await this.jsm.consumers.add(STREAM, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        filter_subject: subject,
        ack_wait: 30 * 1e9,
        max_deliver: -1,
        ...(options.ephemeral ? { inactive_threshold: 60 * 1e9 } : {}),
      });
      const consumer = await this.js.consumers.get(STREAM, durable);
      const messages = await consumer.consume({ max_messages: 64 });
      running.push(messages);
      void (async () => {
        for await (const m of messages) {
          const body = codec.decode(m.data) as { id: string; payload: unknown };
          try {
            await options.handler({ id: body.id, subject: m.subject, payload: body.payload });
            m.ack();
          } catch (err) {
            this.logger.warn({ err, subject: m.subject, durable }, 'handler failed, will be redelivered');
            m.nak(Math.min(30_000, 500 * 2 ** Math.min(m.info.redeliveryCount, 6)));
          }
        }
      })();
    }
    return {
      stop: async () => {
        for (const m of running) m.stop();
      },
    };
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
