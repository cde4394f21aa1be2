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
  registry.registerPath({
    method: 'post',
    path: '/mcp',
    operationId: 'mcp',
    summary: 'MCP Streamable HTTP endpoint (stateless; protocol revisions 2025-11-25 and 2026-07-28)',
    tags: ['mcp'],
    security: [{ bearerAuth: [] }],
    request: {
      body: {
        content: { 'application/json': { schema: z.object({ jsonrpc: z.literal('2.0') }).passthrough() } },
      },
    },
    responses: {
      200: { description: 'JSON-RPC response (JSON or SSE)' },
      401: { description: 'Missing or invalid token' },
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
