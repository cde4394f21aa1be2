import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from '../schemas/zod.js';
import { registerToolsOpenApi } from './tools.routes.js';
import { registerAdminOpenApi } from './admin.routes.js';
import { registerOAuthOpenApi } from './oauth.routes.js';
import { registerUsersOpenApi } from './users.routes.js';
import { registerRegistrationOpenApi } from '../oauth/registration.routes.js';
import { registerAdminManageOpenApi } from './admin-manage.routes.js';
import { registerAdminSummaryOpenApi } from './admin-summary.routes.js';
import { itemErrorSchema } from '../mcp/tools/batch-error.js';

const errorSchema = z
  .object({
    error: z.string().describe('Error code, e.g. invalid_argument, not_found, permission_denied.'),
    message: z.string(),
    field: z.string().optional().describe('The input field at fault.'),
    errors: z.array(itemErrorSchema).optional().describe('A refused batch: one error per item at fault.'),
  })
  .openapi('Error');

/** The OpenAPI 3.1 document, built from the same zod schemas that validate requests. */
export function buildOpenApiDocument(publicUrl: string) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  registry.registerComponent('securitySchemes', 'basicAuth', { type: 'http', scheme: 'basic' });
  registry.registerPath({
    method: 'get',
    path: '/health',
    operationId: 'get_health',
    summary: "The gateway's and each internal service's state",
    tags: ['operations'],
    security: [],
    responses: {
      200: {
        description: 'Every service is serving',
        content: {
          'application/json': {
            schema: z.object({
              status: z.enum(['ok', 'degraded']),
              services: z.record(z.string(), z.string()),
            }),
          },
        },
      },
      503: { description: 'At least one service is not serving' },
    },
  });
  const sessionHeader = z.string().meta({
    description:
      'The session (MCP_SESSIONS=stateful): given by the initialize response, sent with every later request of it',
  });
  registry.registerPath({
    method: 'post',
    path: '/mcp',
    operationId: 'mcp',
    summary: 'MCP Streamable HTTP endpoint (protocol revisions 2025-11-25 and 2026-07-28)',
    description:
      'Stateless by default. With MCP_SESSIONS=stateful a 2025-11-25 client that initializes gets an ' +
      'Mcp-Session-Id and may subscribe to resources (resources/subscribe, which needs memories:read).',
    tags: ['mcp'],
    security: [{ bearerAuth: [] }],
    request: {
      headers: z.object({ 'mcp-session-id': sessionHeader.optional() }),
      body: {
        content: { 'application/json': { schema: z.object({ jsonrpc: z.literal('2.0') }).passthrough() } },
      },
    },
    responses: {
      200: { description: 'JSON-RPC response (JSON or SSE)' },
      401: { description: 'Missing or invalid token' },
      403: { description: 'The call needs a scope the token lacks (insufficient_scope challenge)' },
      404: {
        description: 'No such session for this user (stateful mode): unknown, expired, closed or not yours',
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/mcp',
    operationId: 'mcpEventStream',
    summary: "A session's event stream (stateful mode): notifications such as resources/updated",
    tags: ['mcp'],
    security: [{ bearerAuth: [] }],
    request: {
      headers: z.object({
        'mcp-session-id': sessionHeader,
        'last-event-id': z
          .string()
          .meta({ description: 'Resume after this event: what the session sent since is replayed (bounded)' })
          .optional(),
      }),
    },
    responses: {
      200: { description: 'Server-sent events', content: { 'text/event-stream': { schema: z.string() } } },
      401: { description: 'Missing or invalid token' },
      404: { description: 'No such session for this user' },
      405: { description: 'Stateless mode: there are no sessions' },
      409: { description: 'The session already has an open event stream' },
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/mcp',
    operationId: 'mcpCloseSession',
    summary: 'Closes a session (stateful mode)',
    tags: ['mcp'],
    security: [{ bearerAuth: [] }],
    request: { headers: z.object({ 'mcp-session-id': sessionHeader }) },
    responses: {
      200: { description: 'Closed' },
      401: { description: 'Missing or invalid token' },
      404: { description: 'No such session for this user' },
      405: { description: 'Stateless mode: there are no sessions' },
    },
  });
  registerToolsOpenApi(registry, errorSchema);
  registerAdminOpenApi(registry, errorSchema);
  registerOAuthOpenApi(registry, errorSchema);
  registerUsersOpenApi(registry, errorSchema);
  registerRegistrationOpenApi(registry);
  registerAdminManageOpenApi(registry, errorSchema);
  registerAdminSummaryOpenApi(registry, errorSchema);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Picard',
      version: '0.1.0',
      description: 'Memories for people and their AI assistants, over MCP and REST.',
    },
    servers: [{ url: publicUrl }],
  });
}
