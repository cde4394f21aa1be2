import { callerMetadata, DomainError, toolSeconds, type Caller } from '@picard/service-kit';
import { ZodError } from 'zod';
import type { ServiceClients } from '../../clients/service-clients.js';
import { fromZodError } from '../../http/http-errors.js';
import { BatchError } from './batch-error.js';
import type { ToolDefinition, ToolExtras } from './tool-definition.js';
import type { ToolRateLimits } from './tool-rate-limits.js';

/** What every tool call needs from the gateway, whichever interface it came through. */
export interface ToolDeps {
  clients: ServiceClients;
  rateLimits: ToolRateLimits;
}

/** Where a call came from: the metrics label, and the prefix of the fields its errors name. */
export interface ToolTransport {
  transport: 'mcp' | 'rest';
  /** POST /api/tools nests the tool's input under `data`; /api/tools/{tool} and MCP pass it as is. */
  fieldPrefix?: string;
}

/**
 * The single path every tool call takes, whichever interface it came from:
 * scope check, input validation against the tool's schema, the tool's rate limit, then the tool.
 */
export async function runTool(
  tool: ToolDefinition,
  rawInput: unknown,
  caller: Caller,
  deps: ToolDeps,
  { transport, fieldPrefix }: ToolTransport,
  extras: ToolExtras = {},
): Promise<unknown> {
  const done = toolSeconds.startTimer({ tool: tool.name, transport });
  try {
    const result = await checkedRun(tool, rawInput, caller, deps, fieldPrefix, extras);
    done({ outcome: 'ok' });
    return result;
  } catch (err) {
    done({ outcome: err instanceof DomainError ? err.code : 'internal' });
    throw err;
  }
}

async function checkedRun(
  tool: ToolDefinition,
  rawInput: unknown,
  caller: Caller,
  { clients, rateLimits }: ToolDeps,
  fieldPrefix: string | undefined,
  extras: ToolExtras,
): Promise<unknown> {
  if (!caller.scopes.includes(tool.scope)) {
    throw new DomainError('permission_denied', `${tool.name} needs the scope ${tool.scope}`);
  }
  let input: unknown;
  try {
    input = tool.input.parse(rawInput ?? {});
  } catch (err) {
    if (err instanceof ZodError) throw fromZodError(err, fieldPrefix);
    throw err;
  }
  await rateLimits.consume(tool.name, caller.userId);
  try {
    return await tool.run(input as never, { ...extras, caller, clients, metadata: callerMetadata(caller) });
  } catch (err) {
    // A service names fields of the tool's input; over REST that input sits under `data`.
    if (fieldPrefix && err instanceof BatchError) throw err.withFieldPrefix(fieldPrefix);
    if (fieldPrefix && err instanceof DomainError && err.field) {
      throw new DomainError(err.code, err.message, `${fieldPrefix}.${err.field}`);
    }
    throw err;
  }
}
