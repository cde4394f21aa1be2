import { eventSchemas, type EventPayload } from '@picard/proto';
import {
  type BusMessage,
  type Caller,
  type EventBus,
  type Logger,
  type Subscription,
} from '@picard/service-kit';
import type { ServiceClients } from '../../clients/service-clients.js';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import { SCOPES } from '../../auth/scopes.js';
import type { McpSession, SessionRegistry } from './session-registry.js';
import { maySeeMemory } from './memory-visibility.js';
import { remember } from './session-subscriptions.js';

const MEMORY_SUBJECTS = [
  'memory.created',
  'memory.updated',
  'memory.permission_changed',
  'memory.deleted',
] as const;
type MemorySubject = (typeof MEMORY_SUBJECTS)[number];
type MemoryEvent = EventPayload<MemorySubject> & { reason?: 'deleted' | 'expired' };

const isMemorySubject = (s: string): s is MemorySubject => (MEMORY_SUBJECTS as readonly string[]).includes(s);

/**
 * Turns `memory.*` events into MCP notifications on the sessions of this gateway instance. Every
 * instance has its own consumer, so a change made through any instance (or by a background job)
 * reaches the instance holding the subscriber's stream.
 *
 * Events carry ids only. Before a session hears of a memory, memory-service is asked, as the
 * session's user, whether they may see it now: a memory whose share was revoked is not reported,
 * neither the revocation nor anything after it. A deleted memory cannot be asked about; its deletion
 * is told to its owner and to subscriptions that saw it on their last check.
 */
export class ResourceChangeNotifier {
  constructor(
    private readonly sessions: SessionRegistry,
    private readonly clients: ServiceClients,
    private readonly verifier: TokenVerifier,
    private readonly logger: Logger,
  ) {}

  /** An ephemeral consumer of this instance (the sessions live only here). */
  start(bus: EventBus, durable: string): Promise<Subscription> {
    return bus.subscribe({
      durable,
      ephemeral: true,
      subjects: ['memory.*'],
      handler: (message) => this.onEvent(message),
    });
  }

  /** Events are handled one at a time, so a session hears of changes in the order they were published. */
  private queue: Promise<void> = Promise.resolve();

  onEvent(message: BusMessage): Promise<void> {
    this.queue = this.queue.then(() => this.handle(message));
    return this.queue;
  }

  /** Never throws: a notification that cannot be worked out is logged, not redelivered to everyone. */
  private async handle(message: BusMessage): Promise<void> {
    if (!isMemorySubject(message.subject)) return;
    const parsed = eventSchemas[message.subject].safeParse(message.payload);
    if (!parsed.success) {
      this.logger.warn({ subject: message.subject, id: message.id }, 'malformed memory event ignored');
      return;
    }
    const event = parsed.data as MemoryEvent;
    const subject = message.subject;
    // One visibility answer per user and event, however many of their sessions care.
    const asked = new Map<string, Promise<boolean>>();
    await Promise.all(
      this.sessions
        .all()
        .map((session) =>
          this.notify(session, subject, event, asked).catch((err: unknown) =>
            this.logger.warn({ err, sessionId: session.id, subject }, 'MCP notification failed'),
          ),
        ),
    );
  }

  private async notify(
    session: McpSession,
    subject: MemorySubject,
    event: MemoryEvent,
    asked: Map<string, Promise<boolean>>,
  ): Promise<void> {
    const memoryId = event.memory_id.toLowerCase();
    const ownerId = event.user_id.toLowerCase();
    const concerned = session.subscriptions.concerning(memoryId, ownerId);
    const own = ownerId === session.userId;
    // resources/list shows the user's own memories: a new or deleted one changes it.
    const listChanged = own && (subject === 'memory.created' || subject === 'memory.deleted');
    if (concerned.length === 0 && !listChanged) return;

    const caller = await this.liveCaller(session);
    if (!caller) return;

    const updated: string[] = [];
    if (subject === 'memory.deleted') {
      const seenByAll = event.permission === 'public' && event.reason !== 'expired';
      for (const s of concerned) {
        if (own || seenByAll || s.knownVisible.has(memoryId)) updated.push(s.uri);
        s.knownVisible.delete(memoryId);
        // A memory id is never used again: its own subscription has nothing left to report.
        if (s.resource.kind === 'memory') session.subscriptions.remove(s.uri);
      }
    } else if (concerned.length) {
      let visible = asked.get(caller.userId);
      if (!visible) asked.set(caller.userId, (visible = maySeeMemory(this.clients, caller, memoryId)));
      if (await visible) {
        for (const s of concerned) {
          remember(s, memoryId);
          updated.push(s.uri);
        }
      } else {
        for (const s of concerned) s.knownVisible.delete(memoryId);
      }
    }
    for (const uri of updated) await session.server.server.sendResourceUpdated({ uri });
    if (listChanged) await session.server.server.sendResourceListChanged();
  }

  /**
   * The session's user, while the token of its latest request is still good (not expired, revoked
   * or cut off, and still carrying memories:read). Otherwise nothing is sent and the event stream is
   * ended: the client reconnects with a fresh token (checked like any request) or not at all.
   */
  private async liveCaller(session: McpSession): Promise<Caller | undefined> {
    try {
      const token = await this.verifier.verify(session.token);
      if (token.userId.toLowerCase() === session.userId && token.scopes.includes(SCOPES.read))
        return { userId: session.userId, scopes: token.scopes, clientId: token.clientId };
    } catch {
      // refused: handled below
    }
    this.logger.debug({ sessionId: session.id }, "MCP session's token no longer valid: event stream ended");
    session.transport.closeStandaloneSSEStream();
    return undefined;
  }
}
