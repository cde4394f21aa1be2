import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { authPb } from '@picard/proto';
import { sha256Hex } from '../../src/domain/secrets.js';
import { ClientsStore } from '../../src/store/clients.store.js';
import { AuthStore } from '../../src/store/auth.store.js';
import { SigningKeys } from '../../src/domain/signing-keys.js';
import { testLogger } from '@picard/service-kit/testing';
import { ADMIN, asUser, expectError, startHarness, waitFor, type Harness } from './harness.js';

describe('auth-service: tokens', () => {
  let h: Harness;
  let client: { id: string; secret: string };
  let jwks: ReturnType<typeof createLocalJWKSet>;
  const issuer = 'http://localhost:8001';

  const issue = (patch: Partial<authPb.IssueUserTokenRequest> = {}) =>
    h.call<authPb.TokenResponse>('issueUserToken', {
      clientId: client.id,
      clientSecret: client.secret,
      username: 'carol',
      email: 'carol@example.com',
      createIfMissing: true,
      ...patch,
    });

  const oauth = async (
    method: 'token' | 'revoke' | 'introspect',
    body: Record<string, string>,
    headers: Record<string, string> = {},
  ) => {
    const res = await h.call<authPb.OAuthResponse>(method, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      query: {},
      body,
    });
    return {
      status: res.status,
      headers: res.headers,
      body: JSON.parse(res.bodyJson) as Record<string, unknown>,
    };
  };
  const refresh = (refreshToken: string, creds = client) =>
    oauth('token', {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: creds.id,
      client_secret: creds.secret,
    });

  beforeAll(async () => {
    h = await startHarness();
    const admin = await h.call<authPb.User>('authenticateUser', {
      username: ADMIN.username,
      password: ADMIN.password,
    });
    const reg = await h.call<authPb.RegisteredClient>(
      'registerClient',
      {
        clientName: 'First party',
        redirectUris: [],
        scopes: ['memories:read', 'memories:write', 'memories:admin'],
        grantTypes: [],
        tokenEndpointAuthMethod: '',
        firstParty: true,
      },
      asUser(admin.id, ['memories:admin']),
    );
    client = { id: reg.client!.clientId, secret: reg.clientSecret! };
    const keys = await h.call<authPb.Jwks>('getJwks', {});
    jwks = createLocalJWKSet(JSON.parse(keys.keysJson) as JSONWebKeySet);
  });
  afterAll(async () => h?.close());

  describe('IssueUserToken', () => {
    it('creates the user, publishes auth.user.created and returns a verifiable token pair', async () => {
      const t = await issue();
      expect(t).toMatchObject({
        tokenType: 'Bearer',
        expiresIn: 3600,
        scope: 'memories:read memories:write',
      });
      const { payload, protectedHeader } = await jwtVerify(t.accessToken, jwks, { issuer, audience: issuer });
      expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
      expect(protectedHeader.kid).toBeTruthy();
      expect(payload).toMatchObject({
        sub: t.userId,
        client_id: client.id,
        scope: 'memories:read memories:write',
      });
      expect(payload.exp! - payload.iat!).toBe(3600);
      expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
      const event = await waitFor(() =>
        h.events.find(
          (e) => e.subject === 'auth.user.created' && (e.payload as { user_id: string }).user_id === t.userId,
        ),
      );
      expect(event.payload).toMatchObject({ username: 'carol' });
      // Only the hash of the refresh token is kept.
      const row = await h
        .knex('refresh_tokens')
        .where({ token_hash: sha256Hex(t.refreshToken) })
        .first();
      expect(row).toMatchObject({ user_id: t.userId, client_id: client.id, revoked_at: null });
      expect(JSON.stringify(await h.knex('refresh_tokens').select())).not.toContain(t.refreshToken);
    });

    it('finds an existing user case-insensitively and checks the email', async () => {
      const first = await issue();
      expect((await issue({ username: 'CAROL', createIfMissing: false })).userId).toBe(first.userId);
      await expectError(issue({ email: 'other@example.com' }), 'invalid_argument', 'email');
    });

    it('refuses a missing user without create_if_missing, and the admin account', async () => {
      await expectError(
        issue({ username: 'nobody-yet', email: 'n@example.com', createIfMissing: false }),
        'not_found',
        'username',
      );
      await expectError(issue({ username: ADMIN.username, email: ADMIN.email }), 'permission_denied');
      const rows = await h.knex('users').whereRaw('lower(username) = ?', ['nobody-yet']);
      expect(rows).toHaveLength(0);
    });

    it('refuses bad client credentials with one message', async () => {
      await expectError(
        issue({ clientSecret: 'wrong' }),
        'unauthenticated',
        undefined,
        /^invalid client credentials$/,
      );
      await expectError(
        issue({ clientId: crypto.randomUUID() }),
        'unauthenticated',
        undefined,
        /^invalid client credentials$/,
      );
      await expectError(issue({ clientSecret: '' }), 'invalid_argument', 'client_secret');
    });

    it.each([
      [{ clientId: 'not-a-uuid' }, 'client_id'],
      [{ username: 'a b' }, 'username'],
      [{ username: 'x'.repeat(65) }, 'username'],
      [{ email: 'not-an-email' }, 'email'],
      [{ email: '' }, 'email'],
    ])('validates %j naming %s', async (patch, field) => {
      await expectError(issue(patch), 'invalid_argument', field);
    });

    it('refuses dynamically registered (not first-party) clients', async () => {
      const id = crypto.randomUUID();
      const secret = 'dynamic-client-secret-value';
      await new ClientsStore(h.knex).insert({
        client_id: id,
        secret_hash: sha256Hex(secret),
        client_name: 'Dynamic',
        redirect_uris: ['https://dyn.example.com/cb'],
        scopes: ['memories:read'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
        first_party: false,
        user_token_flow_enabled: true,
        created_by_user_id: null,
      });
      await expectError(issue({ clientId: id, clientSecret: secret }), 'permission_denied');
    });
  });

  describe('token endpoint (refresh_token grant)', () => {
    it('rotates: a new pair works, the old token is refused, and reusing it revokes the family', async () => {
      const first = await issue();
      const r1 = await refresh(first.refreshToken);
      expect(r1.status).toBe(200);
      expect(r1.headers['cache-control']).toBe('no-store');
      expect(r1.body).toMatchObject({ token_type: 'Bearer', scope: 'memories:read memories:write' });
      expect(r1.body.refresh_token).not.toBe(first.refreshToken);
      const { payload } = await jwtVerify(String(r1.body.access_token), jwks, { issuer, audience: issuer });
      expect(payload.sub).toBe(first.userId);
      expect(decodeProtectedHeader(String(r1.body.access_token)).typ).toBe('at+jwt');

      const r2 = await refresh(String(r1.body.refresh_token));
      expect(r2.status).toBe(200);

      const replay = await refresh(first.refreshToken);
      expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(replay.headers['cache-control']).toBe('no-store');
      // The replay burnt the whole family, including the newest token.
      expect(await refresh(String(r2.body.refresh_token))).toMatchObject({
        status: 400,
        body: { error: 'invalid_grant' },
      });
    });

    it('narrows scope on request but never widens it', async () => {
      const t = await issue();
      const narrow = await oauth('token', {
        grant_type: 'refresh_token',
        refresh_token: t.refreshToken,
        scope: 'memories:read',
        client_id: client.id,
        client_secret: client.secret,
      });
      expect(narrow).toMatchObject({ status: 200, body: { scope: 'memories:read' } });
      const wide = await oauth('token', {
        grant_type: 'refresh_token',
        refresh_token: String(narrow.body.refresh_token),
        scope: 'memories:read memories:write',
        client_id: client.id,
        client_secret: client.secret,
      });
      expect(wide).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    });

    it('authenticates the client (Basic or body) and binds the token to it', async () => {
      const t = await issue();
      const basic = (id: string, secret: string) => ({
        Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
      });
      const bad = await oauth(
        'token',
        { grant_type: 'refresh_token', refresh_token: t.refreshToken },
        basic(client.id, 'wrong'),
      );
      expect(bad).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(bad.headers['www-authenticate']).toMatch(/^Basic/);
      expect(await refresh(t.refreshToken, { id: client.id, secret: 'wrong' })).toMatchObject({
        status: 400,
        body: { error: 'invalid_client' },
      });
      expect(
        await oauth('token', { grant_type: 'refresh_token', refresh_token: t.refreshToken }),
      ).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
      // Another client may not spend this client's token.
      const admin = await h.call<authPb.User>('authenticateUser', {
        username: ADMIN.username,
        password: ADMIN.password,
      });
      const other = await h.call<authPb.RegisteredClient>(
        'registerClient',
        {
          clientName: 'Other',
          redirectUris: [],
          scopes: [],
          grantTypes: [],
          tokenEndpointAuthMethod: '',
          firstParty: true,
        },
        asUser(admin.id),
      );
      expect(
        await refresh(t.refreshToken, { id: other.client!.clientId, secret: other.clientSecret! }),
      ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      const ok = await oauth(
        'token',
        { grant_type: 'refresh_token', refresh_token: t.refreshToken },
        basic(client.id, client.secret),
      );
      expect(ok.status).toBe(200);
    });

    it('answers other grants and malformed requests with RFC 6749 errors', async () => {
      // This client registered no redirect URI, so it has no authorization_code grant.
      expect(
        await oauth('token', {
          grant_type: 'authorization_code',
          code: 'x',
          client_id: client.id,
          client_secret: client.secret,
        }),
      ).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
      expect(
        await oauth('token', {
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          client_id: client.id,
          client_secret: client.secret,
        }),
      ).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
      expect(
        await oauth('token', { grant_type: 'password', client_id: client.id, client_secret: client.secret }),
      ).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
      expect(
        await oauth('token', {
          grant_type: 'refresh_token',
          client_id: client.id,
          client_secret: client.secret,
        }),
      ).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect(await refresh('no-such-token')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      const json = await oauth(
        'token',
        {
          grant_type: 'refresh_token',
          refresh_token: 'x',
          client_id: client.id,
          client_secret: client.secret,
        },
        { 'Content-Type': 'application/json' },
      );
      expect(json).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    });
  });

  describe('revocation and introspection', () => {
    it('revokes an access token: listed, published, and introspected as inactive', async () => {
      const t = await issue();
      const { payload } = await jwtVerify(t.accessToken, jwks, { issuer, audience: issuer });
      const creds = { client_id: client.id, client_secret: client.secret };
      expect(await oauth('introspect', { token: t.accessToken, ...creds })).toMatchObject({
        status: 200,
        body: { active: true, sub: t.userId, username: 'carol', jti: payload.jti },
      });
      const res = await oauth('revoke', { token: t.accessToken, token_type_hint: 'access_token', ...creds });
      expect(res.status).toBe(200);
      const list = await h.call<authPb.ListRevocationsResponse>('listRevocations', {});
      const entry = list.revocations.find((r) => r.jti === payload.jti);
      expect(entry?.expiresAt?.getTime()).toBe(payload.exp! * 1000);
      const since = await h.call<authPb.ListRevocationsResponse>('listRevocations', {
        since: new Date(Date.now() + 60_000),
      });
      expect(since.revocations.find((r) => r.jti === payload.jti)).toBeUndefined();
      const event = await waitFor(() =>
        h.events.find(
          (e) => e.subject === 'auth.token.revoked' && (e.payload as { jti: string }).jti === payload.jti,
        ),
      );
      expect(event.payload).toMatchObject({ expires_at: new Date(payload.exp! * 1000).toISOString() });
      expect(await oauth('introspect', { token: t.accessToken, ...creds })).toMatchObject({
        body: { active: false },
      });
      // Revoking twice is fine and publishes nothing new.
      expect((await oauth('revoke', { token: t.accessToken, ...creds })).status).toBe(200);
    });

    it('revokes a refresh token and its family', async () => {
      const t = await issue();
      const creds = { client_id: client.id, client_secret: client.secret };
      expect(await oauth('introspect', { token: t.refreshToken, ...creds })).toMatchObject({
        body: { active: true, token_type: 'refresh_token' },
      });
      expect((await oauth('revoke', { token: t.refreshToken, ...creds })).status).toBe(200);
      expect(await refresh(t.refreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(await oauth('introspect', { token: t.refreshToken, ...creds })).toMatchObject({
        body: { active: false },
      });
    });

    it('answers 200 for unknown tokens and 401 without client credentials', async () => {
      const creds = { client_id: client.id, client_secret: client.secret };
      expect((await oauth('revoke', { token: 'unknown', ...creds })).status).toBe(200);
      expect((await oauth('revoke', { token: 'a.b.c', ...creds })).status).toBe(200);
      expect(await oauth('revoke', { token: 'unknown' })).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      expect(await oauth('revoke', { ...creds })).toMatchObject({
        status: 400,
        body: { error: 'invalid_request' },
      });
      expect(
        await oauth('introspect', { token: 'unknown', client_id: client.id, client_secret: 'wrong' }),
      ).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
    });
  });

  it('keeps one signing key and publishes only its public part', async () => {
    const keys = JSON.parse((await h.call<authPb.Jwks>('getJwks', {})).keysJson) as JSONWebKeySet;
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys.keys[0]).not.toHaveProperty('d');
    // What a restart does: load from the table again, and reuse the stored key.
    const reloaded = await SigningKeys.load(new AuthStore(h.knex), {
      issuer,
      accessTtlSeconds: 3600,
      logger: testLogger(),
    });
    expect(reloaded.jwks().keys.map((k) => k.kid)).toEqual([keys.keys[0]!.kid]);
    const t = await reloaded.signAccessToken({
      userId: crypto.randomUUID(),
      clientId: client.id,
      scope: ['memories:read'],
    });
    expect((await jwtVerify(t.token, jwks, { issuer, audience: issuer })).protectedHeader.kid).toBe(
      keys.keys[0]!.kid,
    );
    const row = await h.knex('signing_keys').first();
    expect(row.alg).toBe('ES256');
  });
});
