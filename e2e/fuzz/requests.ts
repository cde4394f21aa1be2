import fc from 'fast-check';
import { hintsFor } from './hints.js';
import type { JsonSchema } from './json-schema.js';
import { brokenEnvelope, protocolMessage, rpcId, toolCall, type Message } from './jsonrpc.js';
import { validOrMutated, type Mutated } from './mutations.js';
import { valueFor, type SchemaContext } from './schema-arbitrary.js';
import type { Family, Target, TargetCatalog } from './targets.js';
import { encode, wireMutated, type Media, type WireBody } from './wire.js';
import { request, type FuzzRequest } from './fuzz-request.js';
import {
  brokenCredentials,
  brokenMcpHeaders,
  brokenPathParam,
  brokenQuery,
  MCP_HEADERS,
} from './broken-parts.js';
import type { World } from './world.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const otherMethod = (method: string) => fc.constantFrom(...METHODS.filter((m) => m !== method));

const queryText = (value: unknown): string => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return value === undefined ? '' : `q=${encodeURIComponent(JSON.stringify(value) ?? '')}`;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(value)) {
    for (const item of Array.isArray(v) ? v : [v])
      params.append(k, typeof item === 'string' ? item : (JSON.stringify(item) ?? ''));
  }
  return params.toString();
};

const fill = (template: string, params: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '');

interface Builder {
  world: World;
  catalog: TargetCatalog;
  target: Target;
}

const ctx = ({ world, catalog, target }: Builder, location: 'path' | 'query' | 'body'): SchemaContext => ({
  resolve: catalog.resolve,
  hints: hintsFor(world, target, location),
});

const content = (b: Builder, schema: JsonSchema, location: 'query' | 'body', prefix: string) =>
  validOrMutated(valueFor(schema, ctx(b, location)), schema, b.catalog.resolve, prefix);

/** The arms every target shares: the body broken on the wire, broken credentials, a method the route does not have. */
function commonArms(
  b: Builder,
  valid: fc.Arbitrary<unknown>,
  media: Media,
  base: Omit<FuzzRequest, 'target' | 'family' | 'identity' | 'mutation' | 'at'>,
) {
  const arms: fc.WeightedArbitrary<FuzzRequest>[] = [
    {
      weight: 3,
      arbitrary: valid
        .chain((v) => wireMutated(v, media))
        .map(({ body, mutation }) =>
          request(b.target, {
            ...base,
            mutation,
            at: 'body',
            headers: { ...base.headers, ...body.headers },
            body: body.bytes,
          }),
        ),
    },
    {
      weight: 1,
      arbitrary: otherMethod(base.method).map((method) =>
        request(b.target, { ...base, method, mutation: 'wrong-method', at: '' }),
      ),
    },
  ];
  if (b.target.identity !== 'none') {
    arms.push({
      weight: 2,
      arbitrary: brokenCredentials(b.world, b.target.identity).map((credentials) =>
        request(b.target, { ...base, credentials, mutation: 'bad-credentials', at: 'authorization' }),
      ),
    });
  }
  return arms;
}

const bodyParts = (body: WireBody) => ({ headers: body.headers, body: body.bytes });

function restTool(b: Builder): fc.Arbitrary<FuzzRequest> {
  const tool = b.target.tool!;
  const schema = b.target.body!.schema;
  const valid = valueFor(schema, ctx(b, 'body'));
  const send = (value: unknown, mutation: string, at: string, path = '/api/tools') =>
    request(b.target, {
      method: 'POST',
      path,
      credentials: 'proper',
      mutation,
      at,
      ...bodyParts(encode(value, 'json')),
    });
  const envelope = valid.chain((data) =>
    fc.oneof(
      fc
        .oneof(
          fc.constantFrom<unknown>(tool.toUpperCase(), `${tool} `, 'no_such_tool', '', 42, null, [tool], {}),
          fc.string(),
        )
        .map((name) => send({ tool: name, data }, 'envelope', 'tool')),
      fc.constant(send({ data }, 'envelope', 'tool')),
      fc.constant(send({ tool }, 'envelope', 'data')),
      fc.constantFrom<unknown>([], 'text', 5, null).map((d) => send({ tool, data: d }, 'envelope', 'data')),
      fc.jsonValue({ maxDepth: 1 }).map((extra) => send({ tool, data, extra }, 'envelope', 'extra')),
      fc.constant(send({ tool, data }, 'path', 'path', `/api/tools/${tool}`)),
      fc.constant(send(data, 'envelope', 'body')),
    ),
  );
  return fc.oneof(
    {
      weight: 12,
      arbitrary: validOrMutated(valid, schema, b.catalog.resolve, 'data').map((m) =>
        send({ tool, data: m.value }, m.mutation, m.at),
      ),
    },
    {
      weight: 6,
      arbitrary: validOrMutated(valid, schema, b.catalog.resolve).map((m) =>
        send(m.value, m.mutation, m.at, `/api/tools/${tool}`),
      ),
    },
    { weight: 2, arbitrary: envelope },
    ...commonArms(
      b,
      valid.map((data) => ({ tool, data })),
      'json',
      { method: 'POST', path: '/api/tools', credentials: 'proper', headers: {} },
    ),
  );
}

function mcpRequest(
  b: Builder,
  message: unknown,
  mutation: string,
  at: string,
  headers: Record<string, string> = MCP_HEADERS,
) {
  const body = encode(message, 'json');
  return request(b.target, {
    method: 'POST',
    path: '/mcp',
    credentials: 'proper',
    mutation,
    at,
    headers: { ...headers, ...body.headers },
    body: body.bytes,
  });
}

function mcpArms(b: Builder, validMessage: fc.Arbitrary<Message>): fc.WeightedArbitrary<FuzzRequest>[] {
  return [
    {
      weight: 2,
      arbitrary: validMessage
        .chain(brokenEnvelope)
        .map(({ message, how }) => mcpRequest(b, message, 'envelope', how)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validMessage, brokenMcpHeaders())
        .map(([m, h]) => mcpRequest(b, m, 'mcp-headers', 'headers', h)),
    },
    ...commonArms(b, validMessage, 'json', {
      method: 'POST',
      path: '/mcp',
      credentials: 'proper',
      headers: MCP_HEADERS,
    }),
  ];
}

function mcpTool(b: Builder): fc.Arbitrary<FuzzRequest> {
  const tool = b.target.tool!;
  const schema = b.target.body!.schema;
  const valid = valueFor(schema, ctx(b, 'body'));
  const calls = fc.tuple(rpcId(), validOrMutated(valid, schema, b.catalog.resolve, 'arguments'));
  return fc.oneof(
    {
      weight: 12,
      arbitrary: calls.map(([id, m]) => mcpRequest(b, toolCall(id, tool, m.value), m.mutation, m.at)),
    },
    ...mcpArms(
      b,
      fc.tuple(rpcId(), valid).map(([id, args]) => toolCall(id, tool, args)),
    ),
  );
}

function mcpProtocol(b: Builder): fc.Arbitrary<FuzzRequest> {
  const message = protocolMessage(b.world);
  return fc.oneof(
    { weight: 12, arbitrary: message.map((m) => mcpRequest(b, m, 'valid', '')) },
    ...mcpArms(b, message),
  );
}

const UNKNOWN_PATHS = [
  '/api',
  '/api/',
  '/api/tools/no_such_tool',
  '/api/users',
  '/api/admin',
  '/api/admin/clients/x/y',
  '/oauth/token',
  '/.well-known/',
  '/.well-known/nope',
  '/docs/%ff',
  '/docs/..%2f..%2fpackage.json',
  '/%2e%2e/etc/passwd',
  '/mcp/x',
  '/%ff',
  '/%',
  '//api//tools',
  '/authorize/unknown',
  '/api/users/me/consents/',
];

function unknownEndpoint(b: Builder): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...UNKNOWN_PATHS),
        fc.webPath().filter((p) => p.startsWith('/')),
      ),
      fc.constantFrom(...METHODS),
    )
    .map(([path, method]) =>
      request(b.target, {
        method,
        path,
        credentials: 'proper',
        mutation: 'unknown-path',
        at: 'path',
        headers: {},
      }),
    );
}

/** An endpoint from the OpenAPI document: path parameters, query and body from its schemas, each possibly mutated. */
function endpoint(b: Builder): fc.Arbitrary<FuzzRequest> {
  const { target } = b;
  const names = Object.keys(target.pathParams);
  const pathValues = fc.record(
    Object.fromEntries(
      names.map((n) => [
        n,
        valueFor(target.pathParams[n]!, ctx(b, 'path'), n).map((v) => encodeURIComponent(String(v))),
      ]),
    ),
  ) as fc.Arbitrary<Record<string, string>>;
  const none = fc.constant<Mutated>({ value: undefined, mutation: 'valid', at: '' });
  const query = target.query ? content(b, target.query, 'query', 'query') : none;
  const media = target.body?.media ?? 'json';
  const body = target.body ? content(b, target.body.schema, 'body', '') : none;
  const withQuery = (path: string, q: unknown) => {
    const text = queryText(q);
    return text ? `${path}?${text}` : path;
  };
  const label = (ms: Mutated[]) => {
    const changed = ms.filter((m) => m.mutation !== 'valid');
    return {
      mutation: changed.map((m) => m.mutation).join('+') || 'valid',
      at: changed.map((m) => m.at).join('+'),
    };
  };
  const main = fc.tuple(pathValues, query, body).map(([params, q, bd]) =>
    request(target, {
      method: target.method,
      path: withQuery(fill(target.path, params), q.value),
      credentials: 'proper',
      ...label([q, bd]),
      ...bodyParts(target.body ? encode(bd.value, media) : { headers: {} }),
    }),
  );
  const validQuery = target.query ? valueFor(target.query, ctx(b, 'query')) : fc.constant(undefined);
  const validBody = target.body ? valueFor(target.body.schema, ctx(b, 'body')) : fc.constant(undefined);
  const arms: fc.WeightedArbitrary<FuzzRequest>[] = [{ weight: 12, arbitrary: main }];
  if (names.length) {
    arms.push({
      weight: 3,
      arbitrary: fc
        .tuple(pathValues, fc.constantFrom(...names), brokenPathParam(), validQuery)
        .map(([params, name, broken, q]) =>
          request(target, {
            method: target.method,
            path: withQuery(fill(target.path, { ...params, [name]: broken }), q),
            credentials: 'proper',
            mutation: 'path-param',
            at: name,
            headers: {},
          }),
        ),
    });
  }
  if (target.query) {
    arms.push({
      weight: 2,
      arbitrary: fc.tuple(pathValues, brokenQuery()).map(([params, q]) =>
        request(target, {
          method: target.method,
          path: `${fill(target.path, params)}?${q}`,
          credentials: 'proper',
          mutation: 'query-string',
          at: 'query',
          headers: {},
        }),
      ),
    });
  }
  // Without a body the wire arms still send one: a GET or DELETE with a body must not confuse a route.
  return fc.oneof(
    ...arms,
    ...commonArms(b, validBody, media, {
      method: target.method,
      path: target.path.replace(/\{(\w+)\}/g, 'x'),
      credentials: 'proper',
      headers: {},
    }),
  );
}

/** How often each kind of target is drawn: a password hash per call makes login and sign-up costly. */
const weightOf = (target: Target) =>
  target.path === '/authorize/login' || target.path === '/authorize/signup' ? 1 : 4;

/** Requests over every target of the given families, each target about as often as the others. */
export function fuzzRequests(
  world: World,
  catalog: TargetCatalog,
  families: Family[],
): fc.Arbitrary<FuzzRequest> {
  const arms = catalog.targets
    .filter((t) => families.includes(t.family))
    .map((target) => {
      const b = { world, catalog, target };
      const arbitrary = target.tool
        ? target.family === 'mcp'
          ? mcpTool(b)
          : restTool(b)
        : target.name === 'mcp protocol'
          ? mcpProtocol(b)
          : target.name === 'unknown endpoint'
            ? unknownEndpoint(b)
            : endpoint(b);
      return { arbitrary, weight: weightOf(target) };
    });
  return fc.oneof(...arms);
}
