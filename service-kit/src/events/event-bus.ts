/** A message on the bus. `id` is unique per event so consumers can drop redeliveries. */
export interface BusMessage {
  id: string;
  subject: string;
  payload: unknown;
}

export type BusHandler = (message: BusMessage) => Promise<void>;

export interface SubscribeOptions {
  /**
   * Durable consumer name: a restarted consumer resumes where it stopped. Subscribers sharing a name
   * share its messages (each goes to one of them): whatever every instance must hear needs a name
   * of its own per instance.
   */
  durable: string;
  /**
   * For per-instance listeners that rebuild their state at start (a gateway's deny-list): the
   * consumer is removed by the server soon after its subscriber goes away, instead of piling up.
   */
  ephemeral?: boolean;
  /** NATS-style subjects (`memory.*`, `auth.>`). */
  subjects: string[];
  handler: BusHandler;
}

export interface Subscription {
  stop(): Promise<void>;
}

/** What `/health` and the metrics say about a process's bus. */
export interface BusHealth {
  kind: 'nats' | 'in-process';
  /** False while NATS is unreachable (the client keeps reconnecting; publishes wait in the outboxes). */
  connected: boolean;
  /** Per consumer: messages not yet handled (undelivered, or delivered and not acknowledged). */
  consumers: Record<string, number>;
}

/**
 * The one event-bus contract with two implementations: NATS JetStream for clusters and an
 * in-process bus for the embedded mode. Delivery is at least once; a handler that throws gets
 * the message again later.
 */
export interface EventBus {
  readonly kind: 'nats' | 'in-process';
  publish(message: BusMessage): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  health(): Promise<BusHealth>;
  close(): Promise<void>;
}

/** NATS subject matching: `*` is one token, `>` the rest. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
