import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { authPb } from '@picard/proto';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { authConfigSchema } from '../../src/config.js';
import { sha256Hex } from '../../src/domain/secrets.js';
import { ADMIN, asUser, expectError, startHarness, type Harness } from './harness.js';
import { params, pkce } from './oauth-helpers.js';
import { withInternalKey } from '@picard/service-kit/testing';

const ISSUER = 'http://localhost:8001';
const REDIRECT = 'http://127.0.0.1:33418/callback';

/** CheckAuthorization and Authorize: the authorization endpoint's rules (token exchange: code-grant.spec). */
describe('auth-service: authorization requests', () => {
  let h: Harness;
  let admin: authPb.User;
  let user: authPb.User;
  let publicClient: authPb.Client;
  let adminClient: authPb.Client;
  let refreshOnlyClient: authPb.Client;
  let trustedClient: authPb.Client;
  const { challenge } = pkce();

  const request = (patch: Partial<authPb.AuthorizeRequest> = {}): authPb.AuthorizeRequest => ({
    userId: user.id,
    clientId: publicClient.clientId,
    redirectUri: REDIRECT,
    scope: '',
    state: 'st-123',
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    resource: '',
    approved: true,
    ...patch,
  });
  const check = (patch: Partial<authPb.AuthorizeRequest> = {}) =>
    h.call<authPb.AuthorizationCheck>('checkAuthorization', request(patch));
  const authorize = (patch: Partial<authPb.AuthorizeRequest> = {}, as = user) =>
    h.call<authPb.AuthorizeResponse>('authorize', request({ userId: as.id, ...patch }), asUser(as.id));

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.call<authPb.User>('authenticateUser', {
      username: ADMIN.username,
      password: ADMIN.password,
    });
    user = await h.call<authPb.User>('registerUser', {
      username: 'dora',
      email: 'dora@example.com',
      password: 'dora-password-1',
      displayName: 'Dora',
    });
    const dyn = await h.call<authPb.RegisteredClient>('registerDynamicClient', {
      clientName: 'Inspector',
      redirectUris: [REDIRECT],
      scopes: [],
      grantTypes: [],
      tokenEndpointAuthMethod: 'none',
      firstParty: false,
    });
    publicClient = dyn.client!;
    const reg = (r: Partial<authPb.RegisterClientRequest>) =>
      h.call<authPb.RegisteredClient>(
        'registerClient',
        {
          clientName: 'x',
          redirectUris: [],
          scopes: [],
          grantTypes: [],
          tokenEndpointAuthMethod: '',
          firstParty: true,
          ...r,
        },
        asUser(admin.id),
      );
    adminClient = (
      await reg({
        clientName: 'Admin console',
        redirectUris: ['https://console.example.com/cb'],
        scopes: ['memories:read', 'memories:write', 'memories:admin'],
      })
    ).client!;
    refreshOnlyClient = (await reg({ redirectUris: [REDIRECT], grantTypes: ['refresh_token'] })).client!;
    trustedClient = (await reg({ clientName: 'First party', redirectUris: [REDIRECT] })).client!;
  });
  afterAll(async () => h?.close());

  describe('CheckAuthorization', () => {
    it('accepts a valid request: the client, the default scopes (never admin), no error', async () => {
      const c = await check();
      expect(c).toMatchObject({
        error: '',
        redirectTrusted: true,
        errorRedirect: '',
        scopes: ['memories:read', 'memories:write'],
      });
      expect(c.client).toMatchObject({
        clientId: publicClient.clientId,
        clientName: 'Inspector',
        tokenEndpointAuthMethod: 'none',
      });
      expect(
        (await check({ clientId: adminClient.clientId, redirectUri: 'https://console.example.com/cb' }))
          .scopes,
      ).toEqual(['memories:read', 'memories:write']);
      expect((await check({ scope: 'memories:read' })).scopes).toEqual(['memories:read']);
    });

    it.each([
      ['an unknown client', { clientId: '6f1c1c52-0d8e-4a43-9d0f-6d1d7a4b8c11' }, false],
      ['a malformed client_id', { clientId: 'not-a-uuid' }, false],
      ['a redirect URI with a trailing slash', { redirectUri: `${REDIRECT}/` }, true],
      ['a redirect URI with another query', { redirectUri: `${REDIRECT}?next=https://evil.example` }, true],
      ['another host (open redirect attempt)', { redirectUri: 'https://evil.example/callback' }, true],
      ['no redirect URI', { redirectUri: '' }, true],
    ])('shows %s on the page, never redirecting', async (_what, patch, knownClient) => {
      const c = await check(patch);
      expect(c).toMatchObject({ error: 'invalid_request', redirectTrusted: false, errorRedirect: '' });
      expect(c.client !== undefined).toBe(knownClient);
    });

    it.each([
      ['no code_challenge', { codeChallenge: '' }, 'invalid_request', /PKCE is required/],
      ['the plain method', { codeChallengeMethod: 'plain' }, 'invalid_request', /S256/],
      ['no method', { codeChallengeMethod: '' }, 'invalid_request', /S256/],
      ['a malformed challenge', { codeChallenge: 'short' }, 'invalid_request', /code_challenge/],
      [
        'an admin scope the client lacks (escalation)',
        { scope: 'memories:read memories:admin' },
        'invalid_scope',
        /memories:admin/,
      ],
      ['an unknown scope', { scope: 'openid' }, 'invalid_scope', /openid/],
      ['a foreign resource', { resource: 'https://other.example/mcp' }, 'invalid_target', /resource/],
      ['a resource on another path', { resource: `${ISSUER}/api` }, 'invalid_target', /resource/],
    ])(
      'returns %s to the redirect URI of a first-party client with state and iss',
      async (_what, patch, error, description) => {
        const c = await check({ clientId: trustedClient.clientId, ...patch });
        expect(c).toMatchObject({ error, redirectTrusted: true });
        expect(c.errorDescription).toMatch(description);
        expect(c.errorRedirect.startsWith(`${REDIRECT}?`)).toBe(true);
        expect(params(c.errorRedirect)).toEqual({
          error,
          error_description: c.errorDescription,
          state: 'st-123',
          iss: ISSUER,
        });
      },
    );

    it('refuses a client without the authorization_code grant (unauthorized_client)', async () => {
      const c = await check({ clientId: refreshOnlyClient.clientId });
      expect(c).toMatchObject({ error: 'unauthorized_client', redirectTrusted: true });
    });

    it('accepts the gateway and its MCP endpoint as resources, with or without a trailing slash', async () => {
      for (const resource of [ISSUER, `${ISSUER}/`, `${ISSUER}/mcp`, `${ISSUER}/mcp/`]) {
        expect((await check({ resource })).error).toBe('');
      }
    });
  });

  describe('Authorize', () => {
    it('needs the signed-in user as caller', async () => {
      await expectError(h.call('authorize', request()), 'unauthenticated');
      await expectError(h.call('authorize', request(), asUser(admin.id)), 'permission_denied');
      await expectError(
        h.call('authorize', request({ userId: 'nope' }), asUser('nope')),
        'invalid_argument',
        'user_id',
      );
    });

    it('re-validates: an untrusted redirect is an error naming the field, never a redirect', async () => {
      await expectError(
        authorize({ redirectUri: 'https://evil.example/cb' }),
        'invalid_argument',
        'redirect_uri',
      );
      await expectError(
        authorize({ clientId: '6f1c1c52-0d8e-4a43-9d0f-6d1d7a4b8c11' }),
        'invalid_argument',
        'client_id',
      );
      const plain = await authorize({ codeChallengeMethod: 'plain', clientId: trustedClient.clientId });
      expect(params(plain.redirectTo)).toMatchObject({
        error: 'invalid_request',
        state: 'st-123',
        iss: ISSUER,
      });
      // A dynamic client's redirect URI is not trusted with errors (RFC 9700 §4.11.2).
      await expectError(
        authorize({ codeChallengeMethod: 'plain' }),
        'invalid_argument',
        'code_challenge_method',
      );
    });

    it('sends access_denied when the user says no, and records no code', async () => {
      const before = await h.knex('authorization_codes').count<{ n: string }[]>({ n: '*' });
      const res = await authorize({ approved: false });
      expect(params(res.redirectTo)).toEqual({
        error: 'access_denied',
        error_description: 'the user denied the request',
        state: 'st-123',
        iss: ISSUER,
      });
      const after = await h.knex('authorization_codes').count<{ n: string }[]>({ n: '*' });
      expect(after[0]!.n).toBe(before[0]!.n);
    });

    it('issues a single-use code (stored hashed, 5 minutes), with state and iss, and records consent', async () => {
      const res = await authorize({ resource: `${ISSUER}/mcp/` });
      expect(res.redirectTo.startsWith(`${REDIRECT}?`)).toBe(true);
      const p = params(res.redirectTo);
      expect(Object.keys(p).sort()).toEqual(['code', 'iss', 'state']);
      expect(p).toMatchObject({ state: 'st-123', iss: ISSUER });
      expect(p.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const row = await h
        .knex('authorization_codes')
        .where({ code_hash: sha256Hex(p.code!) })
        .first();
      expect(row).toMatchObject({
        client_id: publicClient.clientId,
        user_id: user.id,
        redirect_uri: REDIRECT,
        scope: 'memories:read memories:write',
        resource: `${ISSUER}/mcp`,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        used_at: null,
      });
      const ttl = new Date(row.expires_at).getTime() - Date.now();
      expect(ttl).toBeGreaterThan(290_000);
      expect(ttl).toBeLessThanOrEqual(300_000);
      expect(JSON.stringify(await h.knex('authorization_codes').select())).not.toContain(p.code);
      expect(
        await h.knex('consents').where({ user_id: user.id, client_id: publicClient.clientId }).first(),
      ).toMatchObject({ scope: 'memories:read memories:write' });
    });

    it('never lets a code live longer than 5 minutes (AUTH_CODE_TTL_SECONDS), and purges long-dead codes', async () => {
      expect(() => loadConfig(authConfigSchema, withInternalKey({ AUTH_CODE_TTL_SECONDS: '301' }))).toThrow(
        ConfigError,
      );
      expect(() => loadConfig(authConfigSchema, withInternalKey({ AUTH_CODE_TTL_SECONDS: '301' }))).toThrow(
        /AUTH_CODE_TTL_SECONDS/,
      );
      expect(
        loadConfig(authConfigSchema, withInternalKey({ AUTH_CODE_TTL_SECONDS: '60' })).AUTH_CODE_TTL_SECONDS,
      ).toBe(60);
      const old = params((await authorize()).redirectTo).code!;
      await h
        .knex('authorization_codes')
        .where({ code_hash: sha256Hex(old) })
        .update({ expires_at: new Date(Date.now() - 2 * 86_400_000) });
      await authorize();
      expect(
        await h
          .knex('authorization_codes')
          .where({ code_hash: sha256Hex(old) })
          .first(),
      ).toBeUndefined();
    });

    it('omits state when none was sent, and keeps a query the redirect URI was registered with', async () => {
      const withQuery = 'https://app.example.com/cb?tenant=7';
      const reg = await h.call<authPb.RegisteredClient>('registerDynamicClient', {
        clientName: 'Q',
        redirectUris: [withQuery],
        scopes: [],
        grantTypes: [],
        tokenEndpointAuthMethod: 'none',
        firstParty: false,
      });
      const res = await authorize({ clientId: reg.client!.clientId, redirectUri: withQuery, state: '' });
      const p = params(res.redirectTo);
      expect(p.tenant).toBe('7');
      expect(p.state).toBeUndefined();
      expect(p.code).toBeTruthy();
    });

    it('grants memories:admin only to an admin through a client that has it', async () => {
      const adminReq = {
        clientId: adminClient.clientId,
        redirectUri: 'https://console.example.com/cb',
        scope: 'memories:read memories:admin',
      };
      const forAdmin = params((await authorize(adminReq, admin)).redirectTo);
      expect(
        (
          await h
            .knex('authorization_codes')
            .where({ code_hash: sha256Hex(forAdmin.code!) })
            .first()
        ).scope,
      ).toBe('memories:read memories:admin');
      const forUser = params((await authorize(adminReq)).redirectTo);
      expect(
        (
          await h
            .knex('authorization_codes')
            .where({ code_hash: sha256Hex(forUser.code!) })
            .first()
        ).scope,
      ).toBe('memories:read');
      const onlyAdmin = params((await authorize({ ...adminReq, scope: 'memories:admin' })).redirectTo);
      expect(onlyAdmin).toMatchObject({ error: 'invalid_scope' });
    });
  });
});
