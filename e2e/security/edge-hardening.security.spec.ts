import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import { Browser, hiddenFields } from '../support/browser.js';
import { registerClient, startTestStack, userToken, type TestStack } from '../support/test-stack.js';
import { securityHeaders } from '../../gateway/src/http/security-headers.js';

const PUBLIC_URL = 'https://picard.example';

/** Issue #11, item 11 (gateway): cookies, security headers and CSRF on the authorization pages. */
describe('item 11: gateway hardening of the authorization pages', () => {
  let t: TestStack;
  let clientId: string;
  beforeAll(async () => {
    t = await startTestStack({ PICARD_PUBLIC_URL: PUBLIC_URL, GATEWAY_ALLOWED_HOSTS: '127.0.0.1' });
    clientId = (await registerClient(t)).client_id;
  });
  afterAll(() => t?.stop());

  const authorizeUrl = () =>
    `/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'http://localhost:3000/callback',
      scope: 'memories:read',
      state: 's',
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
      code_challenge_method: 'S256',
    })}`;

  it('item 11: a malformed cookie is treated as no session (the login page, not a 503)', async () => {
    const browser = new Browser(t.url);
    browser.setCookie('picard_session', '%E0%A4%A');
    browser.setCookie('picard_csrf', '%ZZ');
    const page = await browser.get(authorizeUrl());
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="password"');
  });

  it('item 11: security headers (nosniff, no framing, HSTS on https) and a CSP that fits the Swagger UI', async () => {
    for (const path of [authorizeUrl(), '/openapi.json', '/.well-known/oauth-authorization-server']) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    const docs = await fetch(`${t.url}/docs/`);
    expect(docs.status).toBe(200);
    const csp = docs.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("img-src 'self' data:");
    // Its scripts are files from this origin (the CSP above allows them; an inline one would not run).
    expect(await docs.text()).not.toMatch(/<script>(?!\s*<\/script>)/);

    // Over plain http the header would only pin a development host to https.
    const plain = express().use(securityHeaders({ https: false }));
    plain.get('/', (_req, res) => res.send('ok'));
    const server = plain.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    } finally {
      server.close();
    }
  });

  it('item 11: a CSRF token from another browser session is refused (consent CSRF with a planted cookie)', async () => {
    // The attacker takes a token and cookie pair from a session of their own...
    const attacker = new Browser(t.url);
    const attackerPage = await attacker.get(authorizeUrl());
    const attackerFields = hiddenFields(attackerPage.html);
    const attackerCookie = attacker.cookie('picard_csrf')!;
    expect(attackerCookie).toBeDefined();

    // ...the victim is signed in on the authorization pages...
    const victim = new Browser(t.url);
    const login = await victim.get(authorizeUrl());
    const step = await victim.post('/authorize/signup', {
      ...hiddenFields(login.html),
      username: 'csrf-victim',
      email: 'csrf-victim@example.test',
      password: 'victim pass phrase 7f3k2x',
    });
    expect(step.status).toBe(303);
    const consent = await victim.get(step.location!);
    expect(consent.html).toContain('Allow access?');

    // ...and the attacker plants their cookie and submits their form in the victim's browser.
    victim.setCookie('picard_csrf', attackerCookie);
    const forged = await victim.post('/authorize/consent', { ...attackerFields, decision: 'approve' });
    expect(forged.status).toBe(403);
    expect(forged.location).toBeNull();

    // The victim's own page, with a token for this session, still works.
    const again = await victim.get(step.location!);
    const own = await victim.post('/authorize/consent', { ...hiddenFields(again.html), decision: 'approve' });
    expect(own.status).toBe(303);
    expect(new URL(own.location!).searchParams.get('code')).toBeTruthy();
  });

  // Found by the fuzz suite (e2e/fuzz): each was a 5xx, an empty answer or no answer at all.
  it('a consent form whose client_id is not ASCII is refused by name, not a 503', async () => {
    const browser = new Browser(t.url);
    const login = await browser.get(authorizeUrl());
    const step = await browser.post('/authorize/signup', {
      ...hiddenFields(login.html),
      username: 'consent-fuzz',
      email: 'consent-fuzz@example.test',
      password: 'fuzzed pass phrase 9q2w',
    });
    const consent = await browser.get(step.location!);
    const res = await browser.post('/authorize/consent', {
      ...hiddenFields(consent.html),
      client_id: 'client\u00e9\u0007',
      decision: 'approve',
    });
    expect(res.status).toBe(400);
    expect(res.html).toContain('client_id must be a client id or the URL of its metadata document');
  });
});

describe('requests the gateway cannot read are refused with a reason', () => {
  let t: TestStack;
  let token: string;
  beforeAll(async () => {
    t = await startTestStack();
    token = (await userToken(t, await registerClient(t), 'unreadable')).access_token;
  });
  afterAll(() => t?.stop());

  it('a body nested thousands of levels deep: 400 naming the body (it overflowed the MCP transport: 500)', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    for (const path of ['/mcp', '/api/tools']) {
      const res = await fetch(`${t.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${token}`,
        },
        body: deep,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_argument', field: 'body' });
    }
  });

  it('headers past 16 KiB: 431 with a JSON reason (Node answered with an empty body)', async () => {
    const res = await fetch(`${t.url}/health?${'q'.repeat(20_000)}`);
    expect(res.status).toBe(431);
    expect(await res.json()).toEqual({
      error: 'invalid_argument',
      message: 'the request line and headers are larger than 16 KiB',
      field: 'headers',
    });
  });

  it('an error message quoting a lone surrogate still reaches the client (the call never ended)', async () => {
    const res = await fetch(`${t.url}/api/tools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ tool: 'import_memories', data: { format: 'json', data: '\u{1F11E}' } }),
      signal: AbortSignal.timeout(20_000),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_argument', field: 'data.data' });
  });
});
