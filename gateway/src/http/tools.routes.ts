import { Router } from 'express';
import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { DomainError, invalid } from '@picard/service-kit';
import { z } from '../schemas/zod.js';
import { callerOf } from '../auth/bearer.js';
import { TOOLS, toolByName } from '../mcp/tools/index.js';
import type { ToolDefinition } from '../mcp/tools/tool-definition.js';
import { runTool, type ToolDeps } from '../mcp/tools/run-tool.js';
import { handled } from './http-errors.js';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const knownTools = () => TOOLS.map((t) => t.name).join(', ');

/**
 * The MCP tools over plain REST, same schemas, same errors, answered `{result}`:
 * - POST /api/tools/{tool_name} with the tool's input as the body (one real path per tool, so
 *   generated clients tell the tools apart);
 * - POST /api/tools {tool, data}, the older envelope (the web client's BFF uses it).
 */
export function toolsRouter(deps: ToolDeps): Router {
  const router = Router();
  router.post(
    '/api/tools',
    handled(async (req, res) => {
      const body: unknown = req.body;
      if (!isPlainObject(body)) throw invalid('body', 'the body must be a JSON object {tool, data}');
      const { tool: name, data } = body as { tool?: unknown; data?: unknown };
      if (typeof name !== 'string') throw invalid('tool', 'tool must be the name of a tool');
      const tool = toolByName(name);
      if (!tool) throw invalid('tool', `unknown tool "${name}"; known: ${knownTools()}`);
      if (data !== undefined && !isPlainObject(data)) throw invalid('data', 'data must be a JSON object');
      const via = { transport: 'rest', fieldPrefix: 'data' } as const;
      res.json({ result: await runTool(tool, data ?? {}, callerOf(req.auth)!, deps, via) });
    }),
  );
  router.post(
    '/api/tools/:tool_name',
    handled(async (req, res) => {
      const name = String(req.params.tool_name);
      const tool = toolByName(name);
      if (!tool) {
        const shown = JSON.stringify(name.slice(0, 100));
        throw new DomainError('not_found', `no tool ${shown}; known: ${knownTools()}`, 'tool_name');
      }
      // No body at all is an empty input (list_groups needs none); a body express.json did not
      // parse (another Content-Type) must not pass for one.
      const body: unknown = req.body;
      if (body === undefined && req.is('application/json') === false) {
        throw invalid('body', "the body must be the tool's input as JSON (Content-Type: application/json)");
      }
      if (body !== undefined && !isPlainObject(body)) {
        throw invalid('body', "the body must be the tool's input, a JSON object");
      }
      const result = await runTool(tool, body ?? {}, callerOf(req.auth)!, deps, { transport: 'rest' });
      res.json({ result });
    }),
  );
  return router;
}

/** `SubmitMemoryInput` for submit_memory: the name generated clients give the tool's input. */
const inputComponentName = (tool: ToolDefinition) =>
  tool.name.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase()) + 'Input';

export function registerToolsOpenApi(registry: OpenAPIRegistry, errorSchema: z.ZodType): void {
  const error = (description: string): ResponseConfig => ({
    description,
    content: { 'application/json': { schema: errorSchema } },
  });
  const failures = (tool?: ToolDefinition): Record<string, ResponseConfig> => ({
    400: error('Bad input (the body is not JSON, not an object, or breaks the schema); `field` names it'),
    401: error('Missing or invalid bearer token (see the WWW-Authenticate challenge)'),
    403: error(tool ? `The token lacks ${tool.scope}` : "The token lacks the tool's scope"),
    413: error(
      'The body is larger than GATEWAY_BODY_LIMIT (an import_memories call may be larger, up to what its file needs)',
    ),
    ...(!tool || tool.rateLimit
      ? {
          429: error(
            'Too many calls by this user in the current window (all gateway instances together); Retry-After says when to try again',
          ),
        }
      : {}),
    default: error(
      'Any other failure, e.g. 404 something the input names does not exist or is not yours to see, 409 a conflict, 503 a service is unavailable',
    ),
  });

  const envelopes: z.ZodObject<{ tool: z.ZodLiteral<string>; data: z.ZodType }>[] = [];
  for (const tool of TOOLS) {
    const input = registry.register(inputComponentName(tool), tool.input);
    envelopes.push(z.object({ tool: z.literal(tool.name), data: input }));
    registry.registerPath({
      method: 'post',
      path: `/api/tools/${tool.name}`,
      operationId: `tool_${tool.name}`,
      summary: `${tool.title} (tool "${tool.name}", scope ${tool.scope})`,
      description: `${tool.description}\n\nThe same call as POST /api/tools with {"tool": "${tool.name}", "data": <this body>}.`,
      tags: ['tools'],
      security: [{ bearerAuth: [tool.scope] }],
      request: { body: { required: true, content: { 'application/json': { schema: input } } } },
      responses: {
        200: {
          description: 'The tool result',
          content: { 'application/json': { schema: z.object({ result: tool.output }) } },
        },
        ...failures(tool),
      },
    });
  }
  registry.registerPath({
    method: 'post',
    path: '/api/tools',
    operationId: 'call_tool',
    summary: 'Call any tool by name: {tool, data}',
    description:
      'Every tool behind one path: `tool` names it, `data` is its input (the body of its own path, ' +
      'POST /api/tools/{tool}, which also documents its result). Errors name fields under `data`.',
    tags: ['tools'],
    security: [{ bearerAuth: [] }],
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z.discriminatedUnion('tool', envelopes as [(typeof envelopes)[number]]),
          },
        },
      },
    },
    responses: {
      200: {
        description: "The tool result (its shape: the tool's own path)",
        content: {
          'application/json': { schema: z.object({ result: z.record(z.string(), z.unknown()) }) },
        },
      },
      ...failures(),
    },
  });
}
