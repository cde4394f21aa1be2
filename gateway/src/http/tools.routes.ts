import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { invalid } from '@picard/service-kit';
import { z } from '../schemas/zod.js';
import { callerOf } from '../auth/bearer.js';
import { TOOLS, toolByName } from '../mcp/tools/index.js';
import { runTool, type ToolDeps } from '../mcp/tools/run-tool.js';
import { handled } from './http-errors.js';

/** POST /api/tools {tool, data} → {result}: the MCP tools over plain REST, same schemas, same errors. */
export function toolsRouter(deps: ToolDeps): Router {
  const router = Router();
  router.post(
    '/api/tools',
    handled(async (req, res) => {
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw invalid('body', 'the body must be a JSON object {tool, data}');
      }
      const { tool: name, data } = body as { tool?: unknown; data?: unknown };
      if (typeof name !== 'string') throw invalid('tool', 'tool must be the name of a tool');
      const tool = toolByName(name);
      if (!tool)
        throw invalid('tool', `unknown tool "${name}"; known: ${TOOLS.map((t) => t.name).join(', ')}`);
      if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) {
        throw invalid('data', 'data must be a JSON object');
      }
      const result = await runTool(tool, data ?? {}, callerOf(req.auth)!, deps, 'data');
      res.json({ result });
    }),
  );
  return router;
}

export function registerToolsOpenApi(registry: OpenAPIRegistry, errorSchema: z.ZodType): void {
  for (const tool of TOOLS) {
    registry.registerPath({
      method: 'post',
      path: `/api/tools#${tool.name}`,
      operationId: `tool_${tool.name}`,
      summary: `${tool.title} (tool "${tool.name}", scope ${tool.scope})`,
      description: `${tool.description}\n\nSent as POST /api/tools with {"tool": "${tool.name}", "data": {...}}.`,
      tags: ['tools'],
      security: [{ bearerAuth: [tool.scope] }],
      request: {
        body: {
          content: {
            'application/json': { schema: z.object({ tool: z.literal(tool.name), data: tool.input }) },
          },
        },
      },
      responses: {
        200: {
          description: 'The tool result',
          content: { 'application/json': { schema: z.object({ result: tool.output }) } },
        },
        400: {
          description: 'Bad input; `field` names it',
          content: { 'application/json': { schema: errorSchema } },
        },
        401: { description: 'Missing or invalid bearer token' },
        403: { description: `The token lacks ${tool.scope}` },
        ...(tool.rateLimit
          ? {
              429: {
                description:
                  'Too many calls by this user in the current window (all gateway instances together); Retry-After says when to try again',
                content: { 'application/json': { schema: errorSchema } },
              },
            }
          : {}),
      },
    });
  }
}
