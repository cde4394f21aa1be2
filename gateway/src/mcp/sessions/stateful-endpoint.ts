import { randomUUID } from 'node:crypto';
import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  WebStandardStreamableHTTPServerTransport,
  type McpHandlerRequestOptions,
} from '@modelcontextprotocol/server';
import { PeriodicJob, type Logger } from '@picard/service-kit';
import { callerOf } from '../../auth/bearer.js';
import { buildServer, callerFrom, mcpRequestFailed } from '../mcp-server.js';
import type { ToolDeps } from '../tools/run-tool.js';
import { BoundedEventStore } from './bounded-event-store.js';
import { registerResourceSubscriptions } from './resource-subscribe.js';
import { SessionRegistry, type McpSession } from './session-registry.js';
import { SessionSubscriptions } from './session-subscriptions.js';

export interface SessionSettings {
  /** MCP_SESSION_TTL_SECONDS, in ms. */
  ttlMs: number;
  /** MCP_SESSION_EVENT_BUFFER. */
  eventBuffer: number;
  /** MCP_SESSION_MAX_SUBSCRIPTIONS. */
  maxSubscriptions: number;
  /** MCP_SESSIONS_PER_USER. */
  perUser: number;
  now?: () => number;
}

/** The SDK's answer to an unknown session, for sessions that exist but are not the caller's too. */
const sessionNotFound = () =>
  Response.json(
    { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null },
    { status: 404 },
  );

/**
 * `MCP_SESSIONS=stateful`: 2025-11-25 clients that initialize get a session (`Mcp-Session-Id`)
 * served by the SDK's own session transport (`WebStandardStreamableHTTPServerTransport`): the GET
 * event stream, DELETE, and Last-Event-ID resumption from a bounded per-session event store, plus
 * resources/subscribe. Routing follows the SDK's recipe for a sessionful 2025 leg beside its strict
 * modern handler (`isLegacyRequest`): 2026-07-28 requests are served per request as in stateless
 * mode, and a 2025 request that names no session and is no `initialize` is served statelessly too.
 */
export function createStatefulMcpEndpoint(deps: ToolDeps, settings: SessionSettings, logger: Logger) {
  const onerror = mcpRequestFailed(logger);
  const factory = ({ authInfo }: { authInfo?: McpHandlerRequestOptions['authInfo'] }) =>
    buildServer(callerFrom(authInfo), deps, logger);
  const modern = createMcpHandler(factory, { legacy: 'reject', onerror });
  const stateless2025 = legacyStatelessFallback(factory, onerror);
  const sessions = new SessionRegistry({
    ttlMs: settings.ttlMs,
    perUser: settings.perUser,
    logger,
    now: settings.now,
  });
  const sweeper = new PeriodicJob({
    name: 'MCP session expiry',
    logger,
    run: () => sessions.sweep(),
    everyMs: Math.min(60_000, Math.max(250, settings.ttlMs / 4)),
  });
  sweeper.start();

  async function open(request: Request, options: McpHandlerRequestOptions): Promise<Response> {
    const caller = callerOf(options.authInfo);
    if (!caller) return sessionNotFound();
    const id = randomUUID();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: new BoundedEventStore(settings.eventBuffer),
    });
    const subscriptions = new SessionSubscriptions(settings.maxSubscriptions);
    const callerFor = callerFrom(options.authInfo);
    const server = buildServer(callerFor, deps, logger);
    registerResourceSubscriptions(server, subscriptions, callerFor, deps.clients, logger);
    const session: McpSession = {
      id,
      userId: caller.userId.toLowerCase(),
      clientId: caller.clientId,
      transport,
      server,
      subscriptions,
      token: options.authInfo!.token,
      lastSeenMs: sessions.now(),
      openStreams: 0,
    };
    // DELETE, expiry and shutdown all end in the transport closing.
    transport.onclose = () => sessions.forget(id);
    await server.connect(transport);
    const response = await transport.handleRequest(request, options);
    if (transport.sessionId === undefined) {
      // The initialize request was refused before a session began (a bad Accept header, say).
      await server.close();
      return response;
    }
    await sessions.add(session);
    logger.debug({ sessionId: id, userId: session.userId }, 'MCP session opened');
    return response;
  }

  async function serve(id: string, request: Request, options: McpHandlerRequestOptions): Promise<Response> {
    const session = sessions.find(id, callerOf(options.authInfo));
    if (!session) return sessionNotFound();
    session.lastSeenMs = sessions.now();
    session.token = options.authInfo!.token;
    const response = await session.transport.handleRequest(request, options);
    if (request.method !== 'GET' || response.status !== 200 || !response.body) return response;
    return new Response(whileOpen(response.body, session, sessions.now), response);
  }

  return {
    sessions,
    fetch: async (request: Request, options: McpHandlerRequestOptions = {}): Promise<Response> => {
      if (!(await isLegacyRequest(request, options.parsedBody))) return modern.fetch(request, options);
      const sessionId = request.headers.get('mcp-session-id');
      if (sessionId) return serve(sessionId, request, options);
      if (request.method === 'POST' && isInitializeRequest(options.parsedBody)) return open(request, options);
      return stateless2025(request, options);
    },
    async close(): Promise<void> {
      await sweeper.stop();
      await sessions.closeAll();
      await modern.close();
    },
  };
}

const STREAM_OPENED = new TextEncoder().encode(': stream open\n\n');

/**
 * The GET event stream, counted as open while the client reads it: a session with an open stream
 * does not expire, and its idle time starts when the stream ends.
 */
function whileOpen(
  body: ReadableStream<Uint8Array>,
  session: McpSession,
  now: () => number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  session.openStreams++;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    session.openStreams--;
    session.lastSeenMs = now();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      // Node sends the status line and headers with the first body bytes; the SDK writes nothing
      // until a message or its 15 s keep-alive, so the client would not know the stream is open.
      // A comment line (ignored by SSE readers) sends them now.
      controller.enqueue(STREAM_OPENED.slice());
    },
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          end();
          controller.close();
        } else controller.enqueue(chunk.value);
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
}
