import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { SCOPES } from '@picard/proto';
import { loadConfig } from '@picard/service-kit';
import { withInternalKey } from '@picard/service-kit/testing';
import type { ServiceClients } from '../clients/service-clients.js';
import type { SharedRateLimits } from '../clients/rate-limits.client.js';
import { gatewayConfigSchema } from '../config.js';
import { TOOLS } from '../mcp/tools/index.js';
import { ToolRateLimits } from '../mcp/tools/tool-rate-limits.js';
import { toolsRouter } from './tools.routes.js';

/**
 * POST /api/tools up to the point where a tool would call a service: the envelope checks, scopes
 * and input validation, answered through the error mapping. Calls that reach the services are in
 * e2e/rest-api.spec.ts.
 */
describe('POST /api/tools: refusals before any service is called', () => {
  let server: Server;
  let base = '';
  let scopes: string[] = [SCOPES.read];

  beforeAll(async () => {
    const config = loadConfig(gatewayConfigSchema, withInternalKey({}));
    const app = express();
    app.use(express.json());
    // What the bearer middleware leaves on the request (see auth/bearer.ts).
    app.use((req, _res, next) => {
      req.auth = {
        token: 't',
        clientId: 'client',
        scopes,
        extra: { userId: '0190a4b2-7c1e-7000-8000-000000000001' },
      };
      next();
    });
    app.use(
      toolsRouter({
        // Nothing here reaches a client or a counter: each refusal comes first.
        clients: {} as ServiceClients,
        rateLimits: new ToolRateLimits(TOOLS, config, {} as SharedRateLimits),
      }),
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = async (body: unknown) => {
    const res = await fetch(`${base}/api/tools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it.each([
    [[1, 2], 'body', /^the body must be a JSON object/],
    [{ data: {} }, 'tool', /^tool must be the name of a tool$/],
    [{ tool: 42 }, 'tool', /^tool must be the name of a tool$/],
    [{ tool: 'get_memory', data: [] }, 'data', /^data must be a JSON object$/],
    [{ tool: 'get_memory', data: 'x' }, 'data', /^data must be a JSON object$/],
  ])('refuses a malformed envelope %j naming %s', async (body, field, message) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_argument', field });
    expect(res.body.message).toMatch(message);
  });

  it('refuses an unknown tool, listing the known ones', async () => {
    const res = await post({ tool: 'drop_tables', data: {} });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_argument', field: 'tool' });
    expect(res.body.message).toBe(
      `unknown tool "drop_tables"; known: ${TOOLS.map((t) => t.name).join(', ')}`,
    );
  });

  it('answers 400 naming data.<field> for bad input, and a missing data as an empty object', async () => {
    expect(await post({ tool: 'get_memory', data: { memory_id: 'not-a-uuid' } })).toMatchObject({
      status: 400,
      body: { error: 'invalid_argument', field: 'data.memory_id' },
    });
    expect(await post({ tool: 'get_memory' })).toMatchObject({
      status: 400,
      body: { field: 'data.memory_id' },
    });
    expect(
      await post({ tool: 'get_memory', data: { memory_id: '0190a4b2-7c1e-7000-8000-000000000009', x: 1 } }),
    ).toMatchObject({
      status: 400,
      body: { field: 'data.x', message: 'data.x: unknown field "x"' },
    });
  });

  it('answers 403 when the token lacks the tool’s scope', async () => {
    scopes = [SCOPES.read];
    const res = await post({ tool: 'submit_memory', data: { text: 'x', permission: 'private' } });
    expect(res).toEqual({
      status: 403,
      body: { error: 'permission_denied', message: 'submit_memory needs the scope memories:write' },
    });
  });
});
