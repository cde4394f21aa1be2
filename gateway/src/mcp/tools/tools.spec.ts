import { describe, expect, it } from '@jest/globals';
import { ALL_SCOPES, SCOPES } from '@picard/proto';
import { DomainError, loadConfig, type Caller } from '@picard/service-kit';
import { withInternalKey } from '@picard/service-kit/testing';
import { z } from '../../schemas/zod.js';
import type { ServiceClients } from '../../clients/service-clients.js';
import type { Budget, SharedRateLimits } from '../../clients/rate-limits.client.js';
import { gatewayConfigSchema } from '../../config.js';
import { BatchError } from './batch-error.js';
import { TOOLS, toolByName } from './index.js';
import { runTool, type ToolDeps, type ToolTransport } from './run-tool.js';
import { defineTool, type ToolDefinition } from './tool-definition.js';
import { ToolRateLimits } from './tool-rate-limits.js';

const config = loadConfig(gatewayConfigSchema, withInternalKey({}));

describe('the tool registry', () => {
  it('names every tool once, in snake_case, and finds each by name', () => {
    const names = TOOLS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const tool of TOOLS) {
      expect(tool.name).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(toolByName(tool.name)).toBe(tool);
      expect(tool.title.length).toBeGreaterThan(0);
      expect(tool.description.length).toBeGreaterThan(20);
    }
    expect(toolByName('no_such_tool')).toBeUndefined();
    expect(names).toEqual(
      expect.arrayContaining(['submit_memory', 'query_memory', 'get_memory', 'query_user']),
    );
  });

  it('gives every tool a known scope, and marks exactly the read-scoped ones read-only', () => {
    for (const tool of TOOLS) {
      expect(ALL_SCOPES).toContain(tool.scope);
      expect({ tool: tool.name, readOnly: tool.annotations?.readOnlyHint }).toEqual({
        tool: tool.name,
        readOnly: tool.scope === SCOPES.read,
      });
    }
  });

  it('has input and output schemas that publish as JSON Schema objects, and inputs refuse unknown fields', () => {
    for (const tool of TOOLS) {
      expect({ tool: tool.name, type: z.toJSONSchema(tool.input, { io: 'input' }).type }).toEqual({
        tool: tool.name,
        type: 'object',
      });
      expect({ tool: tool.name, type: z.toJSONSchema(tool.output).type }).toEqual({
        tool: tool.name,
        type: 'object',
      });
      const extra = tool.input.safeParse({ surely_not_a_field: 1 });
      expect({
        tool: tool.name,
        unknownKey: extra.error?.issues.some((i) => i.code === 'unrecognized_keys'),
      }).toEqual({
        tool: tool.name,
        unknownKey: true,
      });
    }
  });

  it('rate-limits the expensive tools per user, from the configuration', () => {
    const limited = Object.fromEntries(
      TOOLS.filter((t) => t.rateLimit).map((t) => [t.name, t.rateLimit!(config)]),
    );
    expect(limited).toMatchObject({
      export_memories: { calls: config.GATEWAY_EXPORTS_PER_HOUR, windowSeconds: 3600 },
      query_user: { calls: config.GATEWAY_QUERY_USER_PER_MINUTE, windowSeconds: 60 },
      lookup_users: { calls: config.GATEWAY_LOOKUP_USERS_PER_MINUTE, windowSeconds: 60 },
    });
  });
});

/**
 * runTool, the one path of every call (MCP and REST), with tools defined here: their `run` is the
 * service call, so no service is needed to see what happens before and after it.
 */
describe('runTool', () => {
  const caller: Caller = {
    userId: '0190a4b2-7c1e-7000-8000-000000000001',
    scopes: [SCOPES.read],
    clientId: 'c',
  };
  const consumed: { budget: Budget; key: string }[] = [];
  // Stands in for the counters in auth-service's database; the integration suites count for real.
  const shared = {
    consume: async (budget: Budget, key: string) => void consumed.push({ budget, key }),
  } as unknown as SharedRateLimits;

  const echo = defineTool({
    name: 'echo_thing',
    title: 'Echo',
    description: 'Answers its input.',
    scope: SCOPES.read,
    input: z.object({ thing: z.string().min(1), count: z.number().int().optional() }).strict(),
    output: z.object({ thing: z.string(), user: z.string() }),
    rateLimit: () => ({ calls: 3, windowSeconds: 60 }),
    async run(input, ctx) {
      if (input.thing === 'bad-field')
        throw new DomainError('invalid_argument', 'the service refused it', 'thing');
      if (input.thing === 'bad-batch')
        throw new BatchError('1 of 1 memories are invalid; nothing was stored', [
          { index: 0, field: 'memories[0].text', code: 'invalid_argument', message: 'empty' },
        ]);
      if (input.thing === 'not-found') throw new DomainError('not_found', 'no such thing');
      return { thing: input.thing, user: ctx.caller.userId };
    },
  }) as unknown as ToolDefinition;
  const writer = { ...echo, name: 'write_thing', scope: SCOPES.write } as ToolDefinition;
  const deps: ToolDeps = {
    clients: {} as ServiceClients,
    rateLimits: new ToolRateLimits([echo], config, shared),
  };
  const MCP: ToolTransport = { transport: 'mcp' };
  // POST /api/tools nests the input under `data`.
  const REST: ToolTransport = { transport: 'rest', fieldPrefix: 'data' };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => Promise.reject(new Error('expected a failure')),
      (e: unknown) => e as DomainError,
    );

  it('runs the tool with the caller and counts the call against its budget', async () => {
    consumed.length = 0;
    expect(await runTool(echo, { thing: 'x' }, caller, deps, MCP)).toEqual({
      thing: 'x',
      user: caller.userId,
    });
    expect(consumed).toEqual([
      { budget: { limit: 'tool.echo_thing', points: 3, windowSeconds: 60 }, key: caller.userId },
    ]);
  });

  it('refuses a caller without the scope before looking at the input', async () => {
    const err = await failure(runTool(writer, { nonsense: true }, caller, deps, MCP));
    expect(err).toMatchObject({
      code: 'permission_denied',
      message: 'write_thing needs the scope memories:write',
    });
  });

  it('names the bad field: as is over MCP, under data over REST; nothing is counted', async () => {
    consumed.length = 0;
    expect(await failure(runTool(echo, { thing: '' }, caller, deps, MCP))).toMatchObject({
      code: 'invalid_argument',
      field: 'thing',
    });
    expect(await failure(runTool(echo, { thing: 'x', count: 1.5 }, caller, deps, REST))).toMatchObject({
      code: 'invalid_argument',
      field: 'data.count',
    });
    expect(await failure(runTool(echo, { thing: 'x', cuont: 1 }, caller, deps, REST))).toMatchObject({
      field: 'data.cuont',
      message: 'data.cuont: unknown field "cuont"',
    });
    expect(await failure(runTool(echo, undefined, caller, deps, MCP))).toMatchObject({ field: 'thing' });
    expect(consumed).toHaveLength(0);
  });

  it("prefixes the fields a service names with data over REST, item errors' fields too", async () => {
    expect(await failure(runTool(echo, { thing: 'bad-field' }, caller, deps, MCP))).toMatchObject({
      field: 'thing',
    });
    expect(await failure(runTool(echo, { thing: 'bad-field' }, caller, deps, REST))).toMatchObject({
      code: 'invalid_argument',
      message: 'the service refused it',
      field: 'data.thing',
    });
    const batch = (await failure(
      runTool(echo, { thing: 'bad-batch' }, caller, deps, REST),
    )) as unknown as BatchError;
    expect(batch).toBeInstanceOf(BatchError);
    expect(batch.errors).toEqual([
      { index: 0, field: 'data.memories[0].text', code: 'invalid_argument', message: 'empty' },
    ]);
    const plain = await failure(runTool(echo, { thing: 'not-found' }, caller, deps, REST));
    expect(plain).toMatchObject({ code: 'not_found', message: 'no such thing' });
    expect(plain.field).toBeUndefined();
  });

  it('keeps the fields of a batch whose items are not the input (an imported file)', () => {
    const fileErrors = new BatchError(
      'bad file',
      [{ index: 2, field: 'text', code: 'invalid_argument', message: 'empty' }],
      false,
    );
    expect(fileErrors.withFieldPrefix('data').errors[0]!.field).toBe('text');
  });
});
