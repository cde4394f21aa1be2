import { connect } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../logger.js';
import type { BusHealth, BusMessage, EventBus, SubscribeOptions, Subscription } from './event-bus.js';

const STREAM = 'PICARD';
const STREAM_SUBJECTS = ['auth.>', 'memory.>'];

/**
 * NATS JetStream: one stream holds every event; each subscriber is a durable, explicit-ack
 * consumer per subject (server 2.9 allows one filter per consumer), and publishes carry the
 * event id as Nats-Msg-Id so a re-sent outbox row is stored once.
 */
export class NatsEventBus implements EventBus {
  readonly kind = 'nats' as const;

  private connected = true;
  /** The durable consumers this process reads, for their backlog in health(). */
  private readonly durables = new Set<string>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly logger: Logger,
  ) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.connected = false;
          logger.warn(
            { server: s.server },
            'NATS connection lost: reconnecting (events wait in the outboxes)',
          );
        } else if (s.type === 'reconnect') {
          this.connected = true;
          logger.info({ server: s.server }, 'NATS connection back');
        }
      }
    })();
  }

  async health(): Promise<BusHealth> {
    const consumers: Record<string, number> = {};
    if (this.connected) {
      await Promise.all(
        [...this.durables].map(async (durable) => {
          try {
            const info = await this.jsm.consumers.info(STREAM, durable);
            consumers[durable] = info.num_pending + info.num_ack_pending;
          } catch {
            // Unknown at the moment (the server is busy or just went away): left out.
          }
        }),
      );
    }
    return { kind: this.kind, connected: this.connected, consumers };
  }

  static async connect(url: string, name: string, logger: Logger): Promise<NatsEventBus> {
    const nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    const jsm = await jetstreamManager(nc);
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
    return new NatsEventBus(nc, jetstream(nc), jsm, logger);
  }

  async publish(message: BusMessage): Promise<void> {
    await this.js.publish(message.subject, JSON.stringify({ id: message.id, payload: message.payload }), {
      msgID: message.id,
      timeout: 5000,
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const running: ConsumerMessages[] = [];
    const names: string[] = [];
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
      this.durables.add(durable);
      names.push(durable);
      const consumer = await this.js.consumers.get(STREAM, durable);
      const messages = await consumer.consume({ max_messages: 64 });
      running.push(messages);
      void (async () => {
        for await (const m of messages) {
          const body = m.json<{ id: string; payload: unknown }>();
          try {
            await options.handler({ id: body.id, subject: m.subject, payload: body.payload });
            m.ack();
          } catch (err) {
            this.logger.warn({ err, subject: m.subject, durable }, 'handler failed, will be redelivered');
            m.nak(Math.min(30_000, 500 * 2 ** Math.min(m.info.deliveryCount, 6)));
          }
        }
      })();
    }
    return {
      stop: async () => {
        for (const m of running) m.stop();
        for (const durable of names) this.durables.delete(durable);
      },
    };
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
