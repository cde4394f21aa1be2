import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import createClient from 'openapi-fetch';
import type { paths } from '../client-app/contract/picard-api.js';
import { TOOLS } from '../gateway/src/mcp/tools/index.js';
import {
  bearer,
  post,
  registerClient,
  request,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

/**
 * Issue #13: the API as other tools see it. A client generated from the published OpenAPI document
 * (openapi-typescript types, client-app/contract/picard-api.ts, driven by openapi-fetch) calls the
 * per-tool paths of a running gateway; `npm run typecheck` checks this file against those types,
 * so a document that stops describing what the gateway does breaks the build or this suite.
 */
describe('the OpenAPI document as other tools see it', () => {
  let t: TestStack;
  let carol: UserToken;
  let dave: UserToken;
  let readOnly: UserToken;

  beforeAll(async () => {
    // A small body limit, so "too large" takes kilobytes, not megabytes.
    t = await startTestStack({ GATEWAY_BODY_LIMIT: '16kb' });
    const client = await registerClient(t);
    carol = await userToken(t, client, 'carol');
    dave = await userToken(t, client, 'dave');
    readOnly = await userToken(t, await registerClient(t, ['memories:read']), 'rudi');
  });
  afterAll(() => t?.stop());

  describe('a typed client generated from the document', () => {
    const api = (token?: string) =>
      createClient<paths>({ baseUrl: t.url, headers: token ? bearer(token) : {} });

    it('finds one path per tool in the served document, each its own operation', async () => {
      const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
        paths: Record<string, { post?: { operationId?: string; security?: unknown[]; responses: object } }>;
      };
      const ids = new Set<string>();
      for (const tool of TOOLS) {
        const op = doc.paths[`/api/tools/${tool.name}`]?.post;
        expect(op).toBeDefined();
        expect(op!.security).toEqual([{ bearerAuth: [tool.scope] }]);
        expect(Object.keys(op!.responses)).toEqual(
          expect.arrayContaining(['200', '400', '401', '403', '413']),
        );
        ids.add(op!.operationId!);
      }
      expect(ids.size).toBe(TOOLS.length);
      expect(Object.keys(doc.paths).some((p) => p.includes('#'))).toBe(false);
    });

    it('stores, reads and finds a memory through the per-tool paths', async () => {
      const carolApi = api(carol.access_token);
      const stored = await carolApi.POST('/api/tools/submit_memory', {
        body: { text: 'The lighthouse keeper feeds the gulls at dawn', permission: 'private', tags: ['sea'] },
      });
      expect(stored.response.status).toBe(200);
      const memory = stored.data!.result;
      expect(memory).toMatchObject({
        text: 'The lighthouse keeper feeds the gulls at dawn',
        permission: 'private',
      });
      expect(memory.tags).toEqual(['sea']);

      const read = await carolApi.POST('/api/tools/get_memory', { body: { memory_id: memory.id } });
      expect(read.response.status).toBe(200);
      expect(read.data!.result).toMatchObject({ id: memory.id, text: memory.text });

      const found = await carolApi.POST('/api/tools/query_memory', {
        body: { query: 'who feeds the gulls?', limit: 5 },
      });
      expect(found.response.status).toBe(200);
      expect(found.data!.result.memories.map((m) => m.id)).toContain(memory.id);

      const groups = await carolApi.POST('/api/tools/list_groups', { body: {} });
      expect(groups.data!.result.groups).toEqual([]);

      // The older envelope answers the same, through its own typed operation.
      const viaEnvelope = await carolApi.POST('/api/tools', {
        body: { tool: 'get_memory', data: { memory_id: memory.id } },
      });
      expect(viaEnvelope.response.status).toBe(200);
      expect(viaEnvelope.data!.result).toMatchObject({ id: memory.id });
    });

    it('gets a typed 400 naming the field at fault, at the top level of the body', async () => {
      const res = await api(carol.access_token).POST('/api/tools/query_memory', {
        body: { query: 'gulls', limit: 0 },
      });
      expect(res.response.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.error).toMatchObject({ error: 'invalid_argument', field: 'limit' });
      expect(res.error!.message).toMatch(/^limit: /);

      // The envelope nests the same input under data, and says so.
      const enveloped = await api(carol.access_token).POST('/api/tools', {
        body: { tool: 'query_memory', data: { query: 'gulls', limit: 0 } },
      });
      expect(enveloped.error).toMatchObject({ error: 'invalid_argument', field: 'data.limit' });
    });

    it("answers another user's memory as not found, like one that does not exist", async () => {
      const { data } = await api(carol.access_token).POST('/api/tools/submit_memory', {
        body: { text: "Carol's private note", permission: 'private' },
      });
      const memoryId = data!.result.id;
      const daveApi = api(dave.access_token);
      const read = await daveApi.POST('/api/tools/get_memory', { body: { memory_id: memoryId } });
      const missing = await daveApi.POST('/api/tools/get_memory', {
        body: { memory_id: '00000000-0000-4000-8000-000000000000' },
      });
      expect(read.response.status).toBe(404);
      expect(missing.response.status).toBe(404);
      expect(read.error!.error).toBe('not_found');
      expect(read.error!.error).toBe(missing.error!.error);

      const deleted = await daveApi.POST('/api/tools/delete_memory', { body: { memory_id: memoryId } });
      expect(deleted.response.status).toBe(404);
      const stillThere = await api(carol.access_token).POST('/api/tools/get_memory', {
        body: { memory_id: memoryId },
      });
      expect(stillThere.data!.result.text).toBe("Carol's private note");
    });
  });

  describe('POST /api/tools/{tool_name}: refusals', () => {
    const url = (tool: string) => `${t.url}/api/tools/${tool}`;

    it('needs a bearer token, before anything else', async () => {
      for (const tool of ['submit_memory', 'no_such_tool']) {
        const res = await post(url(tool), { text: 'x', permission: 'private' });
        expect(res.status).toBe(401);
        expect(res.json).toMatchObject({ error: 'unauthenticated' });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      }
    });

    it('refuses an invalid token', async () => {
      const res = await post(url('list_groups'), {}, bearer('not-a-token'));
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: 'invalid_token' });
      expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    it("refuses a token without the tool's scope, and writes nothing", async () => {
      const res = await post(
        url('submit_memory'),
        { text: 'sneaky', permission: 'public' },
        bearer(readOnly.access_token),
      );
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ error: 'permission_denied' });
      expect(res.json.message).toContain('memories:write');
      const listed = await post(url('retrieve_memories'), {}, bearer(readOnly.access_token));
      expect(listed.status).toBe(200);
      expect(listed.json.result.memories).toEqual([]);
    });

    it('answers an unknown tool with 404 naming it (names are exact)', async () => {
      for (const name of ['no_such_tool', 'SUBMIT_MEMORY', 'submit_memory%20']) {
        const res = await post(url(name), {}, bearer(carol.access_token));
        expect(res.status).toBe(404);
        expect(res.json).toMatchObject({ error: 'not_found', field: 'tool_name' });
        expect(res.json.message).toContain(decodeURIComponent(name));
        expect(res.json.message).toContain('submit_memory');
      }
      // A deeper path is no tool either.
      const deeper = await post(url('submit_memory/x'), {}, bearer(carol.access_token));
      expect(deeper.status).toBe(404);
    });

    it('refuses a body that is not the tool input as a JSON object, naming the body', async () => {
      const token = bearer(carol.access_token);
      const cases: [string, Record<string, string>][] = [
        ['{"text": "x", ', {}],
        ['[{"text": "x", "permission": "private"}]', {}],
        ['"text"', {}],
        ['null', {}],
        ['text=x&permission=private', { 'content-type': 'application/x-www-form-urlencoded' }],
        ['x', { 'content-type': 'text/plain' }],
      ];
      for (const [body, headers] of cases) {
        const res = await request('POST', url('submit_memory'), { ...token, ...headers }, body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expect(res.json).toMatchObject({ error: 'invalid_argument', field: 'body' });
      }
      // The envelope's fields are not the tool's: a client mixing the two forms is told which.
      const wrapped = await post(
        url('submit_memory'),
        { tool: 'submit_memory', text: 'x', permission: 'private' },
        token,
      );
      expect(wrapped.status).toBe(400);
      expect(wrapped.json).toMatchObject({ error: 'invalid_argument', field: 'tool' });
      const wrongType = await post(url('submit_memory'), { text: 5, permission: 'private' }, token);
      expect(wrongType.json).toMatchObject({ error: 'invalid_argument', field: 'text' });
      const noBody = await request('POST', url('submit_memory'), token);
      expect(noBody.status).toBe(400);
      expect(noBody.json.field).toBe('text');
    });

    it('refuses a body past GATEWAY_BODY_LIMIT with 413, except for import_memories', async () => {
      const token = bearer(carol.access_token);
      const big = 'x'.repeat(20 * 1024);
      const res = await post(url('submit_memory'), { text: big, permission: 'private' }, token);
      expect(res.status).toBe(413);
      expect(res.json).toMatchObject({ error: 'payload_too_large', field: 'body' });
      // Only the path's own name counts: an import_memories envelope field does not lift the limit.
      const disguised = await post(url('submit_memory'), { tool: 'import_memories', text: big }, token);
      expect(disguised.status).toBe(413);
      const imported = await post(url('import_memories'), { format: 'jsonl', data: big }, token);
      expect(imported.status).not.toBe(413);
    });
  });
});
