import { z } from 'zod';
import { TOOLS } from '../../gateway/src/mcp/tools/index.js';
import { buildOpenApiDocument } from '../../gateway/src/http/openapi.js';
import { SCOPES } from '../../gateway/src/auth/scopes.js';
import { refResolver, type JsonSchema, type RefResolver } from './json-schema.js';
import type { Media } from './wire.js';

/** Tools over REST, tools and the rest of the protocol over MCP, everything else (OAuth, accounts, admin, discovery). */
export type Family = 'rest-tools' | 'mcp' | 'accounts';

/**
 * Whose credentials a well-formed request carries: the fuzzing user's bearer token, a user that may
 * be used up (deactivated), the admin's bearer token, an OAuth client's Basic credentials, a signed-in
 * browser session (cookies + CSRF field), or nothing.
 */
export type Identity = 'user' | 'disposable' | 'admin' | 'client' | 'session' | 'none';

export interface Target {
  name: string;
  family: Family;
  method: string;
  /** Express-style template, `{name}` for path parameters. */
  path: string;
  identity: Identity;
  pathParams: Record<string, JsonSchema>;
  query?: JsonSchema;
  body?: { schema: JsonSchema; media: Media };
  /** Set on tool targets (REST and MCP). */
  tool?: string;
}

export interface TargetCatalog {
  targets: Target[];
  resolve: RefResolver;
}

/** Calls that, when accepted, leave their caller unable to go on (its account deactivated). */
const USES_UP_CALLER = new Set(['POST /api/users/me/deactivate', 'POST /api/users/me/password']);

/** Fuzzed through targets of their own: each tool from its zod schema, over REST and over MCP. */
const COVERED_ELSEWHERE = (path: string) =>
  path === '/mcp' || path === '/api/tools' || path.startsWith('/api/tools/');

/** A tool's input as JSON Schema, straight from its zod schema (what MCP clients see in tools/list). */
export const toolInputSchema = (tool: (typeof TOOLS)[number]): JsonSchema =>
  z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

function identityOf(method: string, path: string, op: OpenApiOperation): Identity {
  if (path.startsWith('/authorize/')) return 'session';
  const schemes = op.security ?? [];
  const bearer = schemes.find((s) => s.bearerAuth)?.bearerAuth;
  if (bearer?.includes(SCOPES.admin)) return 'admin';
  if (bearer) return USES_UP_CALLER.has(`${method} ${path}`) ? 'disposable' : 'user';
  if (schemes.some((s) => s.basicAuth)) return 'client';
  return 'none';
}

function queryOf(op: OpenApiOperation): JsonSchema | undefined {
  const params = (op.parameters ?? []).filter((p) => p.in === 'query');
  if (!params.length) return undefined;
  return {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
    required: params.filter((p) => p.required).map((p) => p.name),
  };
}

/**
 * Form fields the authorization pages read that the OpenAPI document names only in its summaries;
 * without them no login, sign-up or consent would get past its first check.
 */
const UNDOCUMENTED_FORM_FIELDS: Record<string, Record<string, JsonSchema>> = {
  'POST /authorize/login': { username: { type: 'string' }, password: { type: 'string' } },
  'POST /authorize/signup': {
    username: { type: 'string', minLength: 1, maxLength: 30 },
    email: { type: 'string', format: 'email' },
    password: { type: 'string', minLength: 8, maxLength: 40 },
    display_name: { type: 'string' },
  },
  'POST /authorize/consent': { decision: { enum: ['approve', 'deny'] } },
};

function bodyOf(name: string, op: OpenApiOperation): Target['body'] {
  const content = op.requestBody?.content;
  if (content?.['application/json']) return { schema: content['application/json'].schema, media: 'json' };
  const form = content?.['application/x-www-form-urlencoded']?.schema;
  if (!form) return undefined;
  const extra = UNDOCUMENTED_FORM_FIELDS[name];
  return {
    schema: extra
      ? {
          ...form,
          properties: { ...form.properties, ...extra },
          required: [...(form.required ?? []), ...Object.keys(extra)],
        }
      : form,
    media: 'form',
  };
}

/**
 * Every fuzz target, read from the gateway itself: each tool (REST and MCP) from TOOLS and its zod
 * input schema, every other endpoint from the OpenAPI document the gateway serves (built from the
 * routes' own zod schemas), so a new tool or route is fuzzed without touching this suite.
 */
export function fuzzTargets(publicUrl: string): TargetCatalog {
  const document = buildOpenApiDocument(publicUrl) as unknown as {
    paths: Record<string, Record<string, OpenApiOperation>>;
  };
  const targets: Target[] = [];
  for (const tool of TOOLS) {
    const schema = toolInputSchema(tool);
    const base = { identity: 'user' as const, pathParams: {}, tool: tool.name, method: 'POST' };
    targets.push({
      ...base,
      name: `rest ${tool.name}`,
      family: 'rest-tools',
      path: '/api/tools',
      body: { schema, media: 'json' },
    });
    targets.push({
      ...base,
      name: `mcp ${tool.name}`,
      family: 'mcp',
      path: '/mcp',
      body: { schema, media: 'json' },
    });
  }
  targets.push({
    name: 'mcp protocol',
    family: 'mcp',
    method: 'POST',
    path: '/mcp',
    identity: 'user',
    pathParams: {},
  });
  for (const [path, operations] of Object.entries(document.paths)) {
    if (COVERED_ELSEWHERE(path)) continue;
    for (const [verb, op] of Object.entries(operations)) {
      const method = verb.toUpperCase();
      const name = `${method} ${path}`;
      targets.push({
        name,
        family: 'accounts',
        method,
        path,
        identity: identityOf(method, path, op),
        pathParams: Object.fromEntries(
          (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, p.schema]),
        ),
        query: queryOf(op),
        body: bodyOf(name, op),
      });
    }
  }
  targets.push({
    name: 'unknown endpoint',
    family: 'accounts',
    method: 'GET',
    path: '/',
    identity: 'user',
    pathParams: {},
  });
  return { targets, resolve: refResolver(document) };
}
