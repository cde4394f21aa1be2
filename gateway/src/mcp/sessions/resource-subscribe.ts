import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  type McpServer,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { callerMetadata, callUnary, DomainError, type Caller, type Logger } from '@picard/service-kit';
import type { ServiceClients } from '../../clients/service-clients.js';
import { SCOPES } from '../../auth/scopes.js';
import { publicFailure } from '../../http/http-errors.js';
import { userMemoriesRequest } from '../resources.js';
import { maySeeMemory } from './memory-visibility.js';
import type { SessionSubscriptions } from './session-subscriptions.js';
import {
  MAX_RESOURCE_URI_CHARS,
  parseSubscribableResource,
  type SubscribableResource,
} from './subscribable-resource.js';

const SUBSCRIBABLE = 'memories://{memory_id} or users://{user_id}/memories, with UUIDs';

const invalidParams = (message: string) => new ProtocolError(ProtocolErrorCode.InvalidParams, message);

/** The `uri` of a subscribe or unsubscribe request, checked before anything is looked up. */
function resourceOf(params: { uri?: unknown } | undefined): { uri: string; resource: SubscribableResource } {
  const uri = params?.uri;
  if (typeof uri !== 'string') throw invalidParams('uri is required');
  if (uri.length > MAX_RESOURCE_URI_CHARS)
    throw invalidParams(`uri is longer than ${MAX_RESOURCE_URI_CHARS} characters`);
  const resource = parseSubscribableResource(uri);
  if (!resource) throw invalidParams(`uri must be ${SUBSCRIBABLE}`);
  return { uri, resource };
}

/**
 * The memories of `resource` the caller may see now, read as the caller, so memory-service's one
 * visibility rule decides. A memory the caller may not see is refused exactly like one that does
 * not exist.
 */
async function visibleNow(
  clients: ServiceClients,
  caller: Caller,
  uri: string,
  resource: SubscribableResource,
): Promise<string[]> {
  if (resource.kind === 'user-memories') {
    const memory = clients.memory;
    const page = await callUnary(
      memory.getMemories.bind(memory),
      userMemoriesRequest(resource.userId),
      callerMetadata(caller),
    );
    return page.memories.map((m) => m.id.toLowerCase());
  }
  if (!(await maySeeMemory(clients, caller, resource.memoryId))) throw new ResourceNotFoundError(uri);
  return [resource.memoryId];
}

/**
 * `resources/subscribe` and `resources/unsubscribe` on a session's server. Subscribing needs
 * `memories:read` (the scope gate answers 403 with a step-up challenge before this; checked here
 * again) and a resource the caller may see; a session holds at most its cap of subscriptions.
 */
export function registerResourceSubscriptions(
  server: McpServer,
  subscriptions: SessionSubscriptions,
  callerFor: (ctx: ServerContext) => Caller | undefined,
  clients: ServiceClients,
  logger: Logger,
): void {
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });

  server.server.setRequestHandler('resources/subscribe', async (request, ctx) => {
    const caller = callerFor(ctx);
    if (!caller) throw publicFailure(new DomainError('unauthenticated', 'no verified caller'), logger);
    if (!caller.scopes.includes(SCOPES.read))
      throw publicFailure(
        new DomainError('permission_denied', `subscribing to resources needs ${SCOPES.read}`),
        logger,
      );
    const { uri, resource } = resourceOf(request.params);
    let visible: string[];
    try {
      visible = await visibleNow(clients, caller, uri, resource);
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      throw publicFailure(err, logger);
    }
    if (subscriptions.add(uri, resource, visible) === 'full')
      throw invalidParams(`a session holds at most ${subscriptions.max} subscriptions`);
    return {};
  });

  server.server.setRequestHandler('resources/unsubscribe', async (request) => {
    const { uri } = resourceOf(request.params);
    subscriptions.remove(uri);
    return {};
  });
}
