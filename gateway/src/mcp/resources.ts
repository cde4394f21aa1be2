import {
  McpServer,
  ResourceNotFoundError,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { memoryPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  DomainError,
  isUuid,
  type Caller,
  type Logger,
} from '@picard/service-kit';
import type { ServiceClients } from '../clients/service-clients.js';
import { SCOPES } from '../auth/scopes.js';
import { memoryToJson } from '../schemas/memory.schema.js';
import { publicFailure } from '../http/http-errors.js';

type Variables = Record<string, string | string[] | undefined>;

const LIST_LIMIT = 100;
const json = (uri: URL, value: unknown) => ({
  contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value) }],
});

/** What `users://{user_id}/memories` shows: that user's newest memories the caller may see. */
export function userMemoriesRequest(userId: string): memoryPb.GetMemoriesRequest {
  return {
    userId,
    permission: memoryPb.Permission.PERMISSION_UNSPECIFIED,
    tags: [],
    expired: memoryPb.ExpiredFilter.EXPIRED_FILTER_EXCLUDE,
    sort: 'created_at',
    order: 'desc',
    limit: LIST_LIMIT,
    cursor: '',
  };
}

/**
 * Memories as MCP resources: `memories://{memory_id}` and `users://{user_id}/memories`. Reads
 * go through the same gRPC calls, and so the same permission rule, as the tools.
 */
export function registerMemoryResources(
  server: McpServer,
  callerFor: (ctx: ServerContext) => Caller | undefined,
  clients: ServiceClients,
  logger: Logger,
) {
  // A failure that is not a domain error reaches the MCP client generic, with the logged id.
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof ResourceNotFoundError) throw err;
        throw publicFailure(err, logger);
      }
    };
  const memory = clients.memory;
  const who = (ctx: ServerContext) => {
    const caller = callerFor(ctx);
    if (!caller) throw new DomainError('unauthenticated', 'no verified caller');
    if (!caller.scopes.includes(SCOPES.read))
      throw new DomainError('permission_denied', `reading resources needs ${SCOPES.read}`);
    return { caller, metadata: callerMetadata(caller) };
  };
  const variable = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';

  server.registerResource(
    'memory',
    new ResourceTemplate('memories://{memory_id}', {
      // Listing shows the caller's own newest memories; others' are reachable through users://.
      list: guarded(async (ctx: ServerContext) => {
        const { metadata } = who(ctx);
        const page = await callUnary(
          memory.retrieveMemories.bind(memory),
          { limit: LIST_LIMIT, cursor: '' },
          metadata,
        );
        return {
          resources: page.memories.map((m) => ({
            uri: `memories://${m.id}`,
            name: m.text.length > 60 ? `${m.text.slice(0, 57)}...` : m.text,
            mimeType: 'application/json',
          })),
        };
      }),
    }),
    { title: 'A memory', description: 'One memory you may see, as JSON.', mimeType: 'application/json' },
    guarded(async (uri: URL, variables: Variables, ctx: ServerContext) => {
      const { metadata } = who(ctx);
      const id = variable(variables.memory_id);
      if (!isUuid(id)) throw new ResourceNotFoundError(uri.href);
      try {
        return json(
          uri,
          memoryToJson(await callUnary(memory.getMemory.bind(memory), { memoryId: id }, metadata)),
        );
      } catch (err) {
        if (err instanceof DomainError && err.code === 'not_found') throw new ResourceNotFoundError(uri.href);
        throw err;
      }
    }),
  );

  server.registerResource(
    'user-memories',
    new ResourceTemplate('users://{user_id}/memories', { list: undefined }),
    {
      title: "A user's memories",
      description: 'The memories of one user that you may see (newest 100), as JSON.',
      mimeType: 'application/json',
    },
    guarded(async (uri: URL, variables: Variables, ctx: ServerContext) => {
      const { metadata } = who(ctx);
      const userId = variable(variables.user_id);
      if (!isUuid(userId)) throw new ResourceNotFoundError(uri.href);
      const page = await callUnary(memory.getMemories.bind(memory), userMemoriesRequest(userId), metadata);
      return json(uri, { memories: page.memories.map(memoryToJson), next_cursor: page.nextCursor ?? null });
    }),
  );
}
