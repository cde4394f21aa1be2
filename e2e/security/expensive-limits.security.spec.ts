import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { Browser, hiddenFields } from '../support/browser.js';
import {
  callTool,
  post,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
} from '../support/test-stack.js';

const REDIRECT = 'http://localhost:3000/callback';

/**
 * Issue #11, item 6 (gateway part): the operations that cost work or money have budgets per source
 * (sign-up, dynamic registration, client id URLs) or per user (query_user, export_memories), counted
 * in auth-service's database. The gateway trusts a loopback proxy here, so X-Forwarded-For names
 * the client.
 */
describe('item 6: per-source and per-user limits on expensive operations', () => {
  let t: TestStack;
  let clientId: string;
  let client: { client_id: string; client_secret: string };
  beforeAll(async () => {
    t = await startTestStack({
      GATEWAY_TRUST_PROXY: 'loopback',
      GATEWAY_SIGNUPS_PER_HOUR: '2',
      GATEWAY_REGISTRATIONS_PER_HOUR: '2',
      GATEWAY_CLIENT_ID_URLS_PER_HOUR: '2',
      GATEWAY_QUERY_USER_PER_MINUTE: '2',
      GATEWAY_EXPORTS_PER_HOUR: '1',
      AUTH_CIMD_TIMEOUT_MS: '1000',
    });
    client = await registerClient(t);
    clientId = client.client_id;
  });
  afterAll(() => t?.stop());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const authorizeUrl = (id = clientId) =>
    `/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: id,
      redirect_uri: REDIRECT,
      scope: 'memories:read',
      code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
      code_challenge_method: 'S256',
    })}`;

  const signUp = async (ip: string, username: string) => {
    const browser = new Browser(t.url, from(ip));
    const page = await browser.get(authorizeUrl());
    return browser.post('/authorize/signup', {
      ...hiddenFields(page.html),
      username,
      email: `${username}@example.test`,
      password: `${username} pass phrase 9x7`,
    });
  };

  it('item 6: sign-ups (a scrypt hash each) are limited per source address', async () => {
    expect((await signUp('203.0.113.10', 'spam-1')).status).toBe(303);
    expect((await signUp('203.0.113.10', 'spam-2')).status).toBe(303);
    const third = await signUp('203.0.113.10', 'spam-3');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(third.html).toMatch(/too many sign-ups from your network/);
    // The page is shown again, and nothing was created.
    expect(third.html).toContain('name="password"');
    expect((await signUp('198.51.100.10', 'honest-1')).status).toBe(303);
  });

  it('item 6: dynamic client registration has a quota per source, so one source cannot spend everyone\u2019s', async () => {
    const register = (ip: string) =>
      post(
        `${t.url}/register`,
        { client_name: 'x', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' },
        from(ip),
      );
    expect((await register('203.0.113.20')).status).toBe(201);
    expect((await register('203.0.113.20')).status).toBe(201);
    const third = await register('203.0.113.20');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(third.json.error_description).toMatch(/too many client registrations from your network/);
    expect((await register('198.51.100.20')).status).toBe(201);
  });

  it('item 6: authorization requests naming new client id URLs are limited per source', async () => {
    const browser = new Browser(t.url, from('203.0.113.30'));
    for (const n of [1, 2]) {
      const page = await browser.get(authorizeUrl(`https://metadata.invalid/client/${n}`));
      expect(page.status).not.toBe(429);
    }
    const third = await browser.get(authorizeUrl('https://metadata.invalid/client/3'));
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    // Registered clients are not counted.
    expect((await browser.get(authorizeUrl())).status).toBe(200);
  });

  it('item 6: query_user (an LLM request) is limited per user', async () => {
    const alice = await userToken(t, client, 'limit-alice');
    const bob = await userToken(t, client, 'limit-bob');
    const ask = (who: typeof alice) =>
      callTool(t, who.access_token, 'query_user', { user_id: alice.user_id, prompt: 'Anything?' });
    expect((await ask(alice)).status).toBe(200);
    expect((await ask(alice)).status).toBe(200);
    const third = await ask(alice);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(third.json.message).toMatch(/^query_user allows 2 calls per minute per user; try again in \d+ s$/);
    expect((await ask(bob)).status).toBe(200);
  });

  it('item 6: remember_conversation (up to two LLM requests) has its own per-user budget of that size', async () => {
    const dora = await userToken(t, client, 'limit-dora');
    const remember = (text: string) =>
      callTool(t, dora.access_token, 'remember_conversation', {
        messages: [{ role: 'user', content: text }],
      });
    expect((await remember('I like jazz')).status).toBe(200);
    expect((await remember('I like blues')).status).toBe(200);
    const third = await remember('I like folk');
    expect(third.status).toBe(429);
    expect(third.json.message).toMatch(
      /^remember_conversation allows 2 calls per minute per user; try again in \d+ s$/,
    );
    // Separate from query_user's count.
    const ask = await callTool(t, dora.access_token, 'query_user', {
      user_id: dora.user_id,
      prompt: 'Music?',
    });
    expect(ask.status).toBe(200);
  });

  it('item 6: export_memories is limited per user', async () => {
    const carol = await userToken(t, client, 'limit-carol');
    expect((await callTool(t, carol.access_token, 'export_memories', { format: 'json' })).status).toBe(200);
    const second = await callTool(t, carol.access_token, 'export_memories', { format: 'json' });
    expect(second.status).toBe(429);
    expect(second.json.message).toMatch(
      /^export_memories allows 1 call per hour per user; try again in \d+ (s|min)$/,
    );
  });
});
