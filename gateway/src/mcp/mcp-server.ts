import { McpServer, createMcpHandler, type AuthInfo, type ServerContext } from '@modelcontextprotocol/server';
import { DomainError, type Caller, type Logger } from '@picard/service-kit';
import { publicFailure } from '../http/http-errors.js';
import { callerOf } from '../auth/bearer.js';
import { TOOLS } from './tools/index.js';
import { runTool, type ToolDeps } from './tools/run-tool.js';
import { BatchError } from './tools/batch-error.js';
import type { ToolExtras } from './tools/tool-definition.js';
import { registerMemoryResources } from './resources.js';
import { registerMemoryPrompts } from './prompts.js';
import { withCachedJsonSchema } from './cached-json-schema.js';

const SERVER_INFO = { name: 'picard', version: '0.1.0' };

/** Tool failures become MCP tool errors (isError) that say what went wrong; the HTTP exchange still succeeds. */
function toolError(err: unknown, logger: Logger) {
  // The per-item errors travel as JSON text, not structuredContent: stock 2025 clients validate any
  // structuredContent against the tool's output schema, error or not, and would reject the result.
  if (err instanceof BatchError) {
    return { isError: true, content: [{ type: 'text' as const, text: JSON.stringify(err.toJSON()) }] };
  }
  const e = publicFailure(err, logger);
  const text = e.field ? `${e.code} (${e.field}): ${e.message}` : `${e.code}: ${e.message}`;
  return { isError: true, content: [{ type: 'text' as const, text }] };
}

/** Progress notifications go out only when the client asked for them with a progress token. */
function extrasOf(ctx: ServerContext): ToolExtras {
  const token = ctx.mcpReq._meta?.progressToken;
  return {
    signal: ctx.mcpReq.signal,
    progress:
      token === undefined
        ? undefined
        : (p) =>
            ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, ...p } }),
  };
}

/**
 * The caller of one MCP request. A session's server serves many requests, each with the token it
 * came with (refreshed, maybe with other scopes), so the request's own authInfo wins over the one the
 * server was built with.
 */
export const callerFrom =
  (builtWith: AuthInfo | undefined) =>
  (ctx: ServerContext): Caller | undefined =>
    callerOf(ctx.http?.authInfo ?? builtWith);

/** Picard's tools, resources and prompts on a fresh McpServer (one per request, or one per session). */
export function buildServer(
  callerFor: (ctx: ServerContext) => Caller | undefined,
  deps: ToolDeps,
  logger: Logger,
): McpServer {
  const server = new McpServer(SERVER_INFO, {
    instructions:
      'Picard stores memories for you and finds them by meaning. Use submit_memory to remember, ' +
      'query_memory to recall by meaning, retrieve_memories to list everything you stored.',
  });
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: withCachedJsonSchema(tool.input),
        outputSchema: withCachedJsonSchema(tool.output),
        annotations: tool.annotations,
      },
      async (args: unknown, ctx: ServerContext) => {
        const caller = callerFor(ctx);
        if (!caller) return toolError(new DomainError('unauthenticated', 'no verified caller'), logger);
        try {
          const result = (await runTool(
            tool,
            args,
            caller,
            deps,
            { transport: 'mcp' },
            extrasOf(ctx),
          )) as Record<string, unknown>;
          return {
            structuredContent: result,
            content: [{ type: 'text' as const, text: JSON.stringify(result) }],
          };
        } catch (err) {
          return toolError(err, logger);
        }
      },
    );
  }
  registerMemoryResources(server, callerFor, deps.clients, logger);
  registerMemoryPrompts(server);
  return server;
}

export const mcpRequestFailed = (logger: Logger) => (err: Error) =>
  logger.warn({ err }, 'MCP request failed');

/**
 * Stateless Streamable HTTP: a fresh McpServer per request (no session), so any gateway instance
 * answers any request, and both the 2025-11-25 and the 2026-07-28 revisions are served.
 */
export function createMcpEndpoint(deps: ToolDeps, logger: Logger) {
  return createMcpHandler((ctx) => buildServer(callerFrom(ctx.authInfo), deps, logger), {
    onerror: mcpRequestFailed(logger),
  });
}
