import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { approveInBrowser, Browser, hiddenFields } from './support/browser.js';
import { MemoryOAuthProvider } from './support/oauth-provider.js';
import { bearer, callTool, post, startTestStack, type TestStack } from './support/test-stack.js';

const REDIRECT = 'http://127.0.0.1:7777/callback';
const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

describe('OAuth 2.1 with a stock MCP client', () => {
  let t: TestStack;
  beforeAll(async () => {
    // Loopback metadata documents are a development setting; the CIMD test below serves one locally.
    t = await startTestStack({ AUTH_CIMD_ALLOW_LOOPBACK: 'true' }, { realPublicUrl: true });
  });
  afterAll(() => t?.stop());

  it('publishes discovery metadata', async () => {
    const prm = (await (await fetch(`${t.url}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<
      string,
      unknown
    >;
    expect(prm).toMatchObject({ resource: `${t.publicUrl}/mcp`, authorization_servers: [t.publicUrl] });
    const as = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(as).toMatchObject({
      issuer: t.publicUrl,
      authorization_endpoint: `${t.publicUrl}/authorize`,
      registration_endpoint: `${t.publicUrl}/register`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('connects with nothing but the URL: discovery, registration, sign-up, consent, PKCE, token, tool call, refresh', async () => {
    const provider = new MemoryOAuthProvider(REDIRECT);
    const transport = () =>
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), { authProvider: provider });

    const first = new Client({ name: 'oauth-e2e', version: '1.0.0' });
    const pending = transport();
    await expect(first.connect(pending)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.info?.client_id).toBeDefined();
    const url = provider.authorizationUrl!;
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');

    const back = await approveInBrowser(t, url, {
      username: 'oscar',
      password: 'a long password',
      signup: true,
    });
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('iss')).toBe(t.publicUrl);
    expect(back.searchParams.get('state')).toBe(url.searchParams.get('state'));
    await pending.finishAuth(back.searchParams.get('code')!);
    expect(provider.saved?.access_token).toBeDefined();

    const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
    await client.connect(transport());
    const stored = await client.callTool({
      name: 'submit_memory',
      arguments: { text: 'Oscar logged in through OAuth', permission: 'private' },
    });
    expect(stored.isError).toBeFalsy();
    await client.close();

    // Revoke the access token: the next call gets 401, and the SDK refreshes with its refresh token.
    const oldAccess = provider.saved!.access_token;
    const oldRefresh = provider.saved!.refresh_token;
    const revoke = await fetch(`${t.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: oldAccess, client_id: provider.info!.client_id }),
    });
    expect(revoke.status).toBe(200);
    // Revocation reaches the gateway as an event; wait until the old token is refused (≤ 1 s).
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      status = (await callTool(t, oldAccess, 'retrieve_memories', {})).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);
    const again = new Client({ name: 'oauth-e2e', version: '1.0.0' });
    await again.connect(transport());
    const listed = await again.callTool({ name: 'retrieve_memories', arguments: {} });
    expect((listed.structuredContent as { memories: unknown[] }).memories).toHaveLength(1);
    expect(provider.saved!.access_token).not.toBe(oldAccess);
    expect(provider.saved!.refresh_token).not.toBe(oldRefresh);
    await again.close();
  });

  it('accepts a Client ID Metadata Document URL as client_id and shows where the client comes from', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          client_id: clientId,
          client_name: 'Doc Host',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const clientId = `http://127.0.0.1:${(server.address() as { port: number }).port}/oauth/client.json`;
    try {
      const meta = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        unknown
      >;
      expect(meta.client_id_metadata_document_supported).toBe(true);
      const { verifier, challenge } = pkce();
      const url = `${t.url}/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, state: 's1', code_challenge: challenge, code_challenge_method: 'S256' })}`;
      const page = await new Browser(t.url).get(url);
      expect(page.html).toContain(`<strong>Doc Host</strong> (127.0.0.1:`);
      const back = await approveInBrowser(t, url, {
        username: 'cimd-user',
        password: 'cimd user password',
        signup: true,
      });
      const res = await fetch(`${t.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: clientId,
          code: back.searchParams.get('code')!,
          code_verifier: verifier,
          redirect_uri: REDIRECT,
        }),
      });
      expect(res.status).toBe(200);
      const tokens = (await res.json()) as { access_token: string };
      const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as {
        client_id: string;
      };
      expect(claims.client_id).toBe(clientId);
      expect((await callTool(t, tokens.access_token, 'retrieve_memories', {})).status).toBe(200);
      expect(hits).toBeGreaterThan(0);
    } finally {
      server.close();
    }
  });

  it("takes a confidential client's form-encoded HTTP Basic credentials (RFC 6749 §2.3.1, as openid-client sends them)", async () => {
    // What oauth4webapi (openid-client 6) does to each part before base64: it escapes even - _ . ~
    const formEncoded = (s: string) =>
      encodeURIComponent(s).replace(/[-_.!~*'()]|%20/g, (c) =>
        c === '%20' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      );
    const basic = (id: string, secret: string) => ({
      authorization: `Basic ${Buffer.from(`${formEncoded(id)}:${formEncoded(secret)}`).toString('base64')}`,
    });
    const reg = await post(`${t.url}/register`, {
      client_name: 'confidential web app',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(reg.status).toBe(201);
    const id = reg.json.client_id as string;
    const secret = reg.json.client_secret as string;
    expect(formEncoded(id)).not.toBe(id); // a UUID: its '-' are escaped
    const token = (headers: Record<string, string>, fields: Record<string, string>) =>
      fetch(`${t.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields),
      });
    const code = async (username: string, signup: boolean) => {
      const { verifier, challenge } = pkce();
      const url = `${t.url}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: id,
        redirect_uri: REDIRECT,
        scope: 'memories:read memories:write',
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`;
      const back = await approveInBrowser(t, url, { username, password: 'basic auth password 1', signup });
      return {
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
      };
    };

    const issued = await token(basic(id, secret), await code('basil', true));
    expect(issued.status).toBe(200);
    const tokens = (await issued.json()) as { access_token: string; refresh_token: string };
    expect((await callTool(t, tokens.access_token, 'retrieve_memories', {})).status).toBe(200);
    const refreshed = await token(basic(id, secret), {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    const again = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect((await callTool(t, again.access_token, 'retrieve_memories', {})).status).toBe(200);

    // Wrong secrets are still refused: 401 invalid_client with a Basic challenge.
    for (const wrong of [`${secret}-`, `${secret.slice(0, -1)}+`, 'not the secret']) {
      const res = await token(basic(id, wrong), {
        grant_type: 'refresh_token',
        refresh_token: again.refresh_token,
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    }
    expect((await token(basic(id, 'wrong'), await code('basil', false))).status).toBe(401);
  });

  describe('negative cases', () => {
    let clientId: string;
    const register = async () => {
      const res = await post(`${t.url}/register`, {
        client_name: 'neg',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      });
      expect(res.status).toBe(201);
      return res.json.client_id as string;
    };
    beforeAll(async () => {
      clientId = await register();
    });
    const authorizeUrl = (over: Record<string, string> = {}) => {
      const { challenge } = pkce();
      return `/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope: 'memories:read memories:write',
        state: 'xyz',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...over,
      })}`;
    };
    const codeFor = async (username: string, signup: boolean, challenge: string) =>
      (
        await approveInBrowser(t, `${t.url}${authorizeUrl({ code_challenge: challenge })}`, {
          username,
          password: 'another long password',
          signup,
        })
      ).searchParams.get('code')!;
    const exchange = (fields: Record<string, string>) =>
      fetch(`${t.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: clientId,
          redirect_uri: REDIRECT,
          ...fields,
        }),
      });

    it('refuses an unregistered redirect URI on the page, never redirecting (open redirect)', async () => {
      const res = await new Browser(t.url).get(authorizeUrl({ redirect_uri: 'https://evil.example/steal' }));
      expect(res.status).toBe(400);
      expect(res.location).toBeNull();
      expect(res.html).not.toContain('evil.example/steal?');
    });

    it('shows the plain PKCE method and a missing challenge of a dynamic client as errors on the page', async () => {
      // A dynamically registered client's redirect URI is not trusted with errors (RFC 9700 §4.11.2).
      const plain = await new Browser(t.url).get(authorizeUrl({ code_challenge_method: 'plain' }));
      expect(plain.status).toBe(400);
      expect(plain.location).toBeNull();
      expect(plain.html).toContain('invalid_request');
      const none = await new Browser(t.url).get(authorizeUrl({ code_challenge: '' }));
      expect(none.status).toBe(400);
      expect(none.html).toContain('PKCE is required');
    });

    it('refuses login and consent forms without the CSRF token', async () => {
      const browser = new Browser(t.url);
      const page = await browser.get(authorizeUrl());
      const fields = hiddenFields(page.html);
      const noCsrf = await browser.post('/authorize/login', {
        ...fields,
        csrf: 'forged',
        username: 'x',
        password: 'y',
      });
      expect(noCsrf.status).toBe(403);
      browser.forgetCookie('picard_csrf');
      const noCookie = await browser.post('/authorize/consent', { ...fields, decision: 'approve' });
      expect(noCookie.status).toBe(403);
    });

    it('lets the user deny', async () => {
      const browser = new Browser(t.url);
      const page = await browser.get(authorizeUrl());
      const step = await browser.post('/authorize/signup', {
        ...hiddenFields(page.html),
        username: 'denise',
        email: 'denise@example.test',
        password: 'denise password 1',
      });
      const consent = await browser.get(step.location!);
      const denied = await browser.post('/authorize/consent', {
        ...hiddenFields(consent.html),
        decision: 'deny',
      });
      expect(new URL(denied.location!).searchParams.get('error')).toBe('access_denied');
    });

    it('needs the right code_verifier, and a code works once; its reuse revokes what it issued', async () => {
      const { verifier, challenge } = pkce();
      const code = await codeFor('petra', true, challenge);
      const wrong = await exchange({ code, code_verifier: pkce().verifier });
      expect(wrong.status).toBe(400);
      expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant');

      const { challenge: c1 } = pkce();
      const code1 = await codeFor('petra', false, c1);
      const missing = await exchange({ code: code1 });
      expect(missing.status).toBe(400);
      // A failed attempt uses the code up, so guessing verifiers gets nowhere.
      const { verifier: v2, challenge: c2 } = pkce();
      const code2 = await codeFor('petra', false, c2);
      const ok = await exchange({ code: code2, code_verifier: v2 });
      expect(ok.status).toBe(200);
      const tokens = (await ok.json()) as { access_token: string };
      expect((await callTool(t, tokens.access_token, 'retrieve_memories', {})).status).toBe(200);

      const reuse = await exchange({ code: code2, code_verifier: v2 });
      expect(reuse.status).toBe(400);
      let status = 200;
      for (let i = 0; i < 50 && status === 200; i++) {
        status = (await callTool(t, tokens.access_token, 'retrieve_memories', {})).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(401);
      expect((await exchange({ code, code_verifier: verifier })).status).toBe(400);
    });

    it('refuses a redirect URI that differs at the token endpoint', async () => {
      const { verifier, challenge } = pkce();
      const code = await codeFor('quentin', true, challenge);
      const res = await exchange({
        code,
        code_verifier: verifier,
        redirect_uri: 'http://127.0.0.1:7777/other',
      });
      expect(res.status).toBe(400);
    });

    it('answers an MCP call lacking a scope with 403 insufficient_scope', async () => {
      const { verifier, challenge } = pkce();
      const browser = new Browser(t.url);
      const page = await browser.get(authorizeUrl({ code_challenge: challenge, scope: 'memories:read' }));
      const step = await browser.post('/authorize/signup', {
        ...hiddenFields(page.html),
        username: 'rita',
        email: 'rita@example.test',
        password: 'rita password 12',
      });
      const consent = await browser.get(step.location!);
      const back = await browser.post('/authorize/consent', {
        ...hiddenFields(consent.html),
        decision: 'approve',
      });
      const code = new URL(back.location!).searchParams.get('code')!;
      const tokens = (await (await exchange({ code, code_verifier: verifier })).json()) as {
        access_token: string;
        scope: string;
      };
      expect(tokens.scope).toBe('memories:read');
      const call = (id: number, name: string, args: object) => ({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name, arguments: args },
      });
      const post = (body: unknown) =>
        fetch(`${t.url}/mcp`, {
          method: 'POST',
          headers: {
            ...bearer(tokens.access_token),
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2025-11-25',
          },
          body: JSON.stringify(body),
        });
      const submit = call(1, 'submit_memory', { text: 'rita batch secret', permission: 'private' });
      const res = await post(submit);
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toMatch(
        /error="insufficient_scope", scope="memories:read memories:write"/,
      );

      // In a batch the same request is refused as it would be alone, before the batch's reads run.
      const batch = await post([call(2, 'retrieve_memories', {}), submit]);
      expect(batch.status).toBe(403);
      expect(batch.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
      expect(((await batch.json()) as { message: string }).message).toBe(
        'submit_memory needs the scope memories:write',
      );
      const reads = await post([call(3, 'retrieve_memories', {}), call(4, 'retrieve_memories', {})]);
      expect(reads.status).toBe(200);
    });

    it('refuses a browser call to /mcp from an untrusted origin', async () => {
      const res = await fetch(`${t.url}/mcp`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(res.status).toBe(403);
    });
  });
});
