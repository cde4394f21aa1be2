import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

type KeyLike = Parameters<SignJWT['sign']>[0];
import {
  bearer,
  callTool,
  clientForm,
  queryDb,
  registerClient,
  startTestStack,
  userToken,
  within,
  type TestStack,
  type UserToken,
} from './support/test-stack.js';

/**
 * The gateway's bearer check against forged, expired, mis-addressed and revoked tokens. Tokens are
 * signed with auth-service's real key (read from its database) so only the claim under test is wrong.
 */
describe('bearer token checks at /api and /mcp', () => {
  let t: TestStack;
  let client: { client_id: string; client_secret: string };
  let zoe: UserToken;
  let key: { kid: string; privateKey: KeyLike };
  /** How far the gateway's clock runs ahead of the real one (expiry without waiting). */
  let ahead = 0;

  beforeAll(async () => {
    t = await startTestStack({}, { gatewayClock: () => Date.now() + ahead });
    client = await registerClient(t);
    zoe = await userToken(t, client, 'zoe');
    const [row] = await queryDb(
      t,
      'auth',
      (s) => `SELECT kid, private_jwk FROM ${s}.signing_keys ORDER BY created_at LIMIT 1`,
    );
    const jwk = (
      typeof row!.private_jwk === 'string' ? JSON.parse(row!.private_jwk) : row!.private_jwk
    ) as JWK;
    key = { kid: String(row!.kid), privateKey: await importJWK(jwk, 'ES256') };
  });
  afterAll(() => t?.stop());

  const forge = (
    claims: Record<string, unknown>,
    opts: { exp?: number; aud?: string; iss?: string; signer?: KeyLike } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'memories:read memories:write', client_id: client.client_id, ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid })
      .setIssuer(opts.iss ?? t.publicUrl)
      .setAudience(opts.aud ?? t.publicUrl)
      .setSubject(zoe.user_id)
      .setJti(crypto.randomUUID())
      .setIssuedAt(now - 60)
      .setExpirationTime(opts.exp ?? now + 600)
      .sign(opts.signer ?? key.privateKey);
  };

  const mcpCall = (token: string) =>
    fetch(`${t.url}/mcp`, {
      method: 'POST',
      headers: {
        ...bearer(token),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'retrieve_memories', arguments: {} },
      }),
    });

  it('accepts a well-formed token signed with the real key (the forger itself works)', async () => {
    expect((await callTool(t, await forge({}), 'retrieve_memories', {})).status).toBe(200);
  });

  it.each([
    ['expired', () => forge({}, { exp: Math.floor(Date.now() / 1000) - 5 }), /expired/],
    ['for another audience', () => forge({}, { aud: 'https://other.example/mcp' }), /'aud' claim/],
    ['from another issuer', () => forge({}, { iss: 'https://evil.example' }), /'iss' claim/],
    [
      'signed by another key under the same kid',
      async () => forge({}, { signer: (await generateKeyPair('ES256')).privateKey }),
      /invalid/,
    ],
  ])('refuses a token %s with 401 on /api and /mcp', async (_name, make, reason) => {
    const token = await make();
    const api = await callTool(t, token, 'retrieve_memories', {});
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toMatch(reason);
    expect((await mcpCall(token)).status).toBe(401);
  });

  it('refuses a token once it expires, although it was accepted (and its check remembered) before', async () => {
    const token = await forge({}, { exp: Math.floor(Date.now() / 1000) + 60 });
    expect((await callTool(t, token, 'retrieve_memories', {})).status).toBe(200);
    expect((await mcpCall(token)).status).toBe(200);
    try {
      ahead = 61_000;
      expect((await mcpCall(token)).status).toBe(401);
      const api = await callTool(t, token, 'retrieve_memories', {});
      expect(api.status).toBe(401);
      expect(api.headers.get('www-authenticate')).toMatch(/expired/);
    } finally {
      ahead = 0;
    }
  });

  it('refuses a revoked token at /mcp', async () => {
    const amy = await userToken(t, client, 'amy');
    expect((await mcpCall(amy.access_token)).status).toBe(200);
    await clientForm(t, client, '/revoke', { token: amy.access_token });
    expect(await within(1000, async () => (await mcpCall(amy.access_token)).status === 401)).toBe(true);
  });

  it('revokes the whole refresh family when an old refresh token is replayed', async () => {
    const bo = await userToken(t, client, 'bob');
    const refresh = (token: string) =>
      clientForm(t, client, '/token', { grant_type: 'refresh_token', refresh_token: token });
    const second = (await (await refresh(bo.refresh_token)).json()) as { refresh_token: string };
    expect((await refresh(bo.refresh_token)).status).toBe(400);
    const afterReplay = await refresh(second.refresh_token);
    expect(afterReplay.status).toBe(400);
    expect(((await afterReplay.json()) as { error: string }).error).toBe('invalid_grant');
  });
});
