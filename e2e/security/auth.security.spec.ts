import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import { createLogger, loadConfig } from '@picard/service-kit';
import { gatewayConfigSchema, startGateway } from '@picard/gateway';
import { approveInBrowser } from '../support/browser.js';
import {
  ADMIN,
  basic,
  bearer,
  callTool,
  post,
  refused,
  request,
  queryDb,
  registerClient,
  startTestStack,
  userToken,
  within,
  type TestStack,
} from '../support/test-stack.js';

/** Issue #11, auth-service items: each test reproduces the attack and failed before the fix. */

const adminAuth = () => ({ authorization: basic(ADMIN.username, ADMIN.password) });
const REDIRECT = 'http://localhost:3000/callback';

async function form(t: TestStack, path: string, body: Record<string, string>) {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as Record<string, string> };
}

function authorizeUrl(t: TestStack, clientId: string, scope: string) {
  const verifier = randomBytes(32).toString('base64url');
  return `${t.url}/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope,
    state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })}`;
}

describe('security: auth-service (issue #11)', () => {
  let t: TestStack;
  let client: { client_id: string; client_secret: string };
  beforeAll(async () => {
    t = await startTestStack();
    client = await registerClient(t);
  });
  afterAll(() => t?.stop());

  it('item 7: deactivation, password change, client deletion, refresh and family revocation cut off live access tokens, also after a gateway restart', async () => {
    // Password change: the access token held before it stops working within a second.
    await approveInBrowser(t, authorizeUrl(t, client.client_id, 'memories:read memories:write'), {
      username: 'pia',
      password: 'pia first passphrase 1',
      signup: true,
    });
    const pia = await userToken(t, client, 'pia');
    expect((await callTool(t, pia.access_token, 'retrieve_memories', {})).status).toBe(200);
    const changed = await request('POST', `${t.url}/api/users/me/password`, bearer(pia.access_token), {
      current_password: 'pia first passphrase 1',
      new_password: 'pia second passphrase 2',
    });
    expect(changed.status).toBe(204);
    expect(await within(1000, refused(t, pia.access_token))).toBe(true);
    // A token issued after the change is not caught by it.
    const piaAgain = await userToken(t, client, 'pia');
    expect((await callTool(t, piaAgain.access_token, 'retrieve_memories', {})).status).toBe(200);

    // Revoking a refresh token (RFC 7009) ends the grant's access token too.
    const rita = await userToken(t, client, 'rita');
    const revoked = await form(t, '/revoke', { token: rita.refresh_token, ...client });
    expect(revoked.status).toBe(200);
    expect(await within(1000, refused(t, rita.access_token))).toBe(true);
    const other = await userToken(t, client, 'rita');
    expect((await callTool(t, other.access_token, 'retrieve_memories', {})).status).toBe(200);

    // Replaying a rotated refresh token revokes the family: the latest access token of it dies too.
    const fred = await userToken(t, client, 'fred');
    const rotated = await form(t, '/token', {
      grant_type: 'refresh_token',
      refresh_token: fred.refresh_token,
      ...client,
    });
    expect(rotated.status).toBe(200);
    expect((await callTool(t, rotated.json.access_token!, 'retrieve_memories', {})).status).toBe(200);
    const replay = await form(t, '/token', {
      grant_type: 'refresh_token',
      refresh_token: fred.refresh_token,
      ...client,
    });
    expect(replay.status).toBe(400);
    expect(await within(1000, refused(t, rotated.json.access_token!))).toBe(true);

    // Deleting a client ends the access tokens it holds.
    const doomed = await registerClient(t);
    const dora = await userToken(t, doomed, 'dora');
    expect(
      (await request('DELETE', `${t.url}/api/admin/clients/${doomed.client_id}`, adminAuth())).status,
    ).toBe(204);
    expect(await within(1000, refused(t, dora.access_token))).toBe(true);

    // Deactivation, then a gateway that starts afterwards: it still refuses the user's live token.
    const dave = await userToken(t, client, 'dave');
    expect(
      (await request('POST', `${t.url}/api/admin/users/${dave.user_id}/deactivate`, adminAuth())).status,
    ).toBe(200);
    const fresh = await startGateway({
      config: loadConfig(gatewayConfigSchema, { ...t.env, INTERNAL_TOKEN_KEY: t.stack.internalKey }),
      logger: createLogger('gateway-2', 'silent'),
      bus: t.bus,
      addresses: t.stack.addresses,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      expect(await refused(fresh, dave.access_token)()).toBe(true);
      expect(await refused(fresh, dora.access_token)()).toBe(true);
      expect(await refused(fresh, rita.access_token)()).toBe(true);
      expect(
        (
          await request('POST', `${fresh.url}/api/tools`, bearer(other.access_token), {
            tool: 'retrieve_memories',
            data: {},
          })
        ).status,
      ).toBe(200);
    } finally {
      await fresh.stop();
    }
  });

  it('item 3: direct connect issues only the consented scopes; withdrawing a consent ends the client tokens', async () => {
    // Cora approves the first-party client for reading only.
    await approveInBrowser(t, authorizeUrl(t, client.client_id, 'memories:read'), {
      username: 'cora',
      password: 'cora reads only 1',
      signup: true,
    });
    const readOnly = await userToken(t, client, 'cora');
    expect(readOnly.scope).toBe('memories:read');
    const write = await callTool(t, readOnly.access_token, 'submit_memory', { text: 'x' });
    expect(write.status).toBe(403);

    // She then approves read and write; the list shows that, and direct connect follows it.
    await approveInBrowser(t, authorizeUrl(t, client.client_id, 'memories:read memories:write'), {
      username: 'cora',
      password: 'cora reads only 1',
    });
    const full = await userToken(t, client, 'cora');
    expect(full.scope.split(' ').sort()).toEqual(['memories:read', 'memories:write']);
    const list = await request('GET', `${t.url}/api/users/me/consents`, bearer(full.access_token));
    expect(list.status).toBe(200);
    expect(list.json.consents).toEqual([
      expect.objectContaining({
        client_id: client.client_id,
        client_name: 'e2e client',
        scopes: ['memories:read', 'memories:write'],
      }),
    ]);

    // Withdrawn: live access tokens and refresh tokens of the client end, and it may not mint more.
    const withdrawn = await request(
      'DELETE',
      `${t.url}/api/users/me/consents/${client.client_id}`,
      bearer(full.access_token),
    );
    expect(withdrawn.status).toBe(204);
    expect(await within(1000, refused(t, full.access_token))).toBe(true);
    expect(await refused(t, readOnly.access_token)()).toBe(true);
    const refresh = await form(t, '/token', {
      grant_type: 'refresh_token',
      refresh_token: full.refresh_token,
      ...client,
    });
    expect(refresh.status).toBe(400);
    const mint = await post(`${t.url}/api/user-tokens/user-token`, {
      client_id: client.client_id,
      client_secret: client.client_secret,
      username: 'cora',
      email: 'cora@example.test',
    });
    expect(mint.status).toBe(403);
  });

  it('item 5: open registration cannot mint client principals; client-subject tokens need an admin-made service principal', async () => {
    // Dynamic registration no longer offers client_credentials.
    const asked = await post(`${t.url}/register`, {
      client_name: 'self-principal',
      redirect_uris: ['https://attacker.example/cb'],
      grant_types: ['authorization_code', 'client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(asked.status).toBe(400);
    expect(asked.json.error_description).toMatch(/grant_types\[1\]/);

    // A dynamic client registered before the fix still lists the grant: the token endpoint refuses it.
    const legacy = await post(`${t.url}/register`, {
      client_name: 'legacy',
      redirect_uris: ['https://legacy.example/cb'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(legacy.status).toBe(201);
    await queryDb(
      t,
      'auth',
      (s) =>
        `UPDATE ${s}.clients SET grant_types = '["authorization_code","refresh_token","client_credentials"]'::jsonb WHERE client_id = $1`,
      [legacy.json.client_id],
    );
    const minted = await form(t, '/token', {
      grant_type: 'client_credentials',
      client_id: legacy.json.client_id,
      client_secret: legacy.json.client_secret,
    });
    expect(minted.status).toBe(400);
    expect(minted.json.error).toBe('unauthorized_client');

    // A client-subject token minted before the fix (sub = the client's id) is refused on user-data tools.
    const [row] = await queryDb(
      t,
      'auth',
      (s) => `SELECT kid, private_jwk FROM ${s}.signing_keys ORDER BY created_at LIMIT 1`,
    );
    const jwk = (
      typeof row!.private_jwk === 'string' ? JSON.parse(row!.private_jwk) : row!.private_jwk
    ) as JWK;
    const now = Math.floor(Date.now() / 1000);
    const old = await new SignJWT({ scope: 'memories:read memories:write', client_id: legacy.json.client_id })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: String(row!.kid) })
      .setIssuer(t.publicUrl)
      .setAudience(t.publicUrl)
      .setSubject(legacy.json.client_id)
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(await importJWK(jwk, 'ES256'));
    const stored = await callTool(t, old, 'submit_memory', { text: 'I am not a user' });
    expect(stored.status).toBe(401);

    // The admin makes a first-party client a service principal: then, and only then, it may act as itself.
    const service = await registerClient(t);
    const before = await form(t, '/token', {
      grant_type: 'client_credentials',
      client_id: service.client_id,
      client_secret: service.client_secret,
    });
    expect(before.json.error).toBe('unauthorized_client');
    const made = await request('PATCH', `${t.url}/api/admin/clients/${service.client_id}`, adminAuth(), {
      service_principal: true,
    });
    expect(made.status).toBe(200);
    expect(made.json).toMatchObject({
      service_principal: true,
      grant_types: expect.arrayContaining(['client_credentials']),
    });
    const dynamicPrincipal = await request(
      'PATCH',
      `${t.url}/api/admin/clients/${legacy.json.client_id}`,
      adminAuth(),
      {
        service_principal: true,
      },
    );
    expect(dynamicPrincipal.json.field).toBe('service_principal');
    const granted = await form(t, '/token', {
      grant_type: 'client_credentials',
      client_id: service.client_id,
      client_secret: service.client_secret,
    });
    expect(granted.status).toBe(200);
    expect((await callTool(t, granted.json.access_token!, 'retrieve_memories', {})).status).toBe(200);
  });

  it('item 8: malformed authorization requests of dynamic clients show the error page instead of redirecting', async () => {
    const attacker = 'https://attacker.example/landing';
    const dcr = await post(`${t.url}/register`, {
      client_name: 'phish',
      redirect_uris: [attacker],
      token_endpoint_auth_method: 'none',
    });
    expect(dcr.status).toBe(201);
    const malformed = (clientId: string, redirectUri: string, extra: Record<string, string>) =>
      fetch(
        `${t.url}/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: redirectUri,
          state: 's',
          ...extra,
        })}`,
        { redirect: 'manual' },
      );
    // No PKCE, an unknown scope, a wrong response_type: each a page, never a 303 to the attacker.
    const extras: Record<string, string>[] = [
      {},
      { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', scope: 'openid' },
      { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', response_type: 'token' },
    ];
    for (const extra of extras) {
      const res = await malformed(dcr.json.client_id, attacker, extra);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('This sign-in request cannot be completed');
    }
    // A first-party client (registered by the admin) still gets its errors at its redirect URI.
    const trusted = await malformed(client.client_id, REDIRECT, {});
    expect(trusted.status).toBe(303);
    expect(trusted.headers.get('location')).toMatch(
      /^http:\/\/localhost:3000\/callback\?error=invalid_request/,
    );
  });
});
