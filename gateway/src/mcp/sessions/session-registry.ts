import type { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { Caller, Logger } from '@picard/service-kit';
import type { SessionSubscriptions } from './session-subscriptions.js';

/** One stateful MCP session: the SDK's transport and server, bound to the user who opened it. */
export interface McpSession {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: McpServer;
  readonly subscriptions: SessionSubscriptions;
  /** The bearer token of the session's latest request: notifications go out only while it is valid. */
  token: string;
  lastSeenMs: number;
  /** Open GET event streams: a session with one is in use, however long nobody sends a request. */
  openStreams: number;
}

export interface SessionRegistryOptions {
  /** A session without a request or an open stream for this long is closed. */
  ttlMs: number;
  /** Sessions per user; opening one more closes that user's least recently used. */
  perUser: number;
  logger: Logger;
  now?: () => number;
}

/**
 * The sessions this gateway instance holds. A session lives in the instance that opened it (its
 * transport holds the event stream), so a load balancer must send a session's requests back to it.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, McpSession>();
  readonly now: () => number;

  constructor(private readonly opts: SessionRegistryOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Registers a new session, closing the user's least recently used one past the per-user cap. */
  async add(session: McpSession): Promise<void> {
    this.sessions.set(session.id, session);
    const own = this.forUser(session.userId).sort((a, b) => a.lastSeenMs - b.lastSeenMs);
    for (const old of own.slice(0, Math.max(0, own.length - this.opts.perUser))) {
      this.opts.logger.info({ sessionId: old.id, userId: old.userId }, 'MCP session closed: per-user cap');
      await this.close(old);
    }
  }

  /**
   * The session, when it exists and belongs to this caller (same user, same client). Another
   * caller's session id is answered like an unknown one: no one learns that it exists.
   */
  find(id: string, caller: Caller | undefined): McpSession | undefined {
    const session = this.sessions.get(id);
    if (!session || !caller) return undefined;
    if (session.userId !== caller.userId.toLowerCase() || session.clientId !== caller.clientId)
      return undefined;
    // Expired is expired, whether or not the sweep came by yet.
    if (this.idle(session, this.now())) {
      void this.close(session);
      return undefined;
    }
    return session;
  }

  /** Called by the session's transport when it closes (DELETE, expiry, shutdown). */
  forget(id: string): void {
    this.sessions.delete(id);
  }

  forUser(userId: string): McpSession[] {
    return [...this.sessions.values()].filter((s) => s.userId === userId);
  }

  all(): McpSession[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Closes the sessions idle past the TTL; how many. */
  async sweep(): Promise<number> {
    const now = this.now();
    const idle = this.all().filter((s) => this.idle(s, now));
    for (const s of idle) await this.close(s);
    if (idle.length) this.opts.logger.debug({ closed: idle.length }, 'idle MCP sessions closed');
    return idle.length;
  }

  private idle(session: McpSession, now: number): boolean {
    return session.openStreams === 0 && now - session.lastSeenMs >= this.opts.ttlMs;
  }

  async closeAll(): Promise<void> {
    for (const s of this.all()) await this.close(s);
  }

  private async close(session: McpSession): Promise<void> {
    this.forget(session.id);
    try {
      await session.server.close();
    } catch (err) {
      this.opts.logger.warn({ err, sessionId: session.id }, 'closing an MCP session failed');
    }
  }
}
