import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { authPb } from '@picard/proto';
import { loadConfig } from '@picard/service-kit';
import { testLogger, withInternalKey } from '@picard/service-kit/testing';
import { authConfigSchema } from '../../src/config.js';
import { AuthorizationService } from '../../src/domain/authorization.service.js';
import { ClientsService } from '../../src/domain/clients.service.js';
import { clientMetadataFetcher } from '../../src/service.js';
import { AuthStore } from '../../src/store/auth.store.js';
import { asUser, expectError, startHarness, type Harness } from './harness.js';
import { jwtPayload, oauth, params, pkce } from './oauth-helpers.js';

const REDIRECT = 'http://127.0.0.1:33418/callback';
const NEW_REDIRECT = 'http://127.0.0.1:33418/callback-v2';

// The host's side: a real HTTP server on loopback serving metadata documents; every connection counted.
let server: http.Server;
let base = '';
let connections = 0;
let redirectUris = [REDIRECT];
const url = (path: string) => `${base}${path}`;
const documents: Record<string, (path: string) => Record<string, unknown>> = {
  '/client.json': (p) => ({
    client_id: url(p),
    client_name: 'Loopback Host',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
  }),
  '/liar.json': () => ({
    client_id: url('/client.json'),
    client_name: 'Impostor',
    redirect_uris: [REDIRECT],
  }),
};

let clock = Date.now();

describe('auth-service: Client ID Metadata Documents', () => {
  let h: Harness;
  let user: authPb.User;
  let cimd = '';

  const request = (patch: Partial<authPb.AuthorizeRequest> = {}) => {
    const { verifier, challenge } = pkce();
    const req: authPb.AuthorizeRequest = {
      userId: user.id,
      clientId: cimd,
      redirectUri: REDIRECT,
      scope: '',
      state: 'st',
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      resource: '',
      approved: true,
      ...patch,
    };
    return { req, verifier };
  };
  const check = (patch: Partial<authPb.AuthorizeRequest> = {}) =>
    h.call<authPb.AuthorizationCheck>('checkAuthorization', request(patch).req);
  const codeFor = async (patch: Partial<authPb.AuthorizeRequest> = {}) => {
    const { req, verifier } = request(patch);
    const res = await h.call<authPb.AuthorizeResponse>('authorize', req, asUser(user.id));
    const code = params(res.redirectTo).code;
    if (!code) throw new Error(`no code in ${res.redirectTo}`);
    return { code, verifier };
  };
  const exchange = (c: { code: string; verifier: string }, clientId = cimd) =>
    oauth(h, 'token', {
      grant_type: 'authorization_code',
      code: c.code,
      code_verifier: c.verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? '';
      const doc = documents[path];
      if (!doc) return void res.writeHead(404).end();
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' })
        .end(JSON.stringify(doc(path)));
    });
    server.on('connection', () => void connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cimd = url('/client.json');
    h = await startHarness({ AUTH_CIMD_ALLOW_LOOPBACK: 'true' }, { clientMetadata: { now: () => clock } });
    user = await h.call<authPb.User>('registerUser', {
      username: 'cimd-user',
      email: 'cimd@example.com',
      password: 'cimd-password-1',
      displayName: '',
    });
  });
  afterAll(async () => {
    await h?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('config: CIMD is on by default, loopback off, 5 s timeout; bad values are named', () => {
    expect(loadConfig(authConfigSchema, withInternalKey({}))).toMatchObject({
      AUTH_CIMD_ENABLED: true,
      AUTH_CIMD_ALLOW_LOOPBACK: false,
      AUTH_CIMD_TIMEOUT_MS: 5000,
    });
    expect(() => loadConfig(authConfigSchema, withInternalKey({ AUTH_CIMD_ENABLED: 'maybe' }))).toThrow(
      /AUTH_CIMD_ENABLED/,
    );
    expect(() => loadConfig(authConfigSchema, withInternalKey({ AUTH_CIMD_TIMEOUT_MS: '0' }))).toThrow(
      /AUTH_CIMD_TIMEOUT_MS/,
    );
  });

  it('the full flow: check, authorize, token, refresh, introspect and revoke with the URL as client_id', async () => {
    const checked = await check({ scope: 'memories:read memories:write' });
    expect(checked).toMatchObject({
      error: '',
      redirectTrusted: true,
      scopes: ['memories:read', 'memories:write'],
    });
    expect(checked.client).toMatchObject({
      clientId: cimd,
      clientName: 'Loopback Host',
      redirectUris: [REDIRECT],
      tokenEndpointAuthMethod: 'none',
      firstParty: false,
    });
    // Internally it is a client like any other: a UUID, no secret, never first-party or admin.
    const row = await h.knex('clients').where({ metadata_url: cimd }).first();
    expect(row).toMatchObject({
      secret_hash: null,
      first_party: false,
      user_token_flow_enabled: false,
      scopes: ['memories:read', 'memories:write'],
    });
    expect(row.client_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const c = await codeFor();
    const tokens = await exchange(c);
    expect(tokens).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    expect(jwtPayload(String(tokens.body.access_token))).toMatchObject({ client_id: cimd, sub: user.id });
    // Codes and consents keep the internal UUID.
    expect(await h.knex('consents').where({ user_id: user.id }).first()).toMatchObject({
      client_id: row.client_id,
    });

    const refreshed = await oauth(h, 'token', {
      grant_type: 'refresh_token',
      refresh_token: String(tokens.body.refresh_token),
      client_id: cimd,
    });
    expect(refreshed.status).toBe(200);
    expect(jwtPayload(String(refreshed.body.access_token)).client_id).toBe(cimd);

    const access = String(refreshed.body.access_token);
    // A URL client is public: naming itself proves nothing, so it may not introspect (issue #11).
    expect(await oauth(h, 'introspect', { token: access, client_id: cimd })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    const refresh = String(refreshed.body.refresh_token);

    expect(await oauth(h, 'revoke', { token: refresh, client_id: cimd })).toMatchObject({ status: 200 });
    expect(
      await oauth(h, 'token', { grant_type: 'refresh_token', refresh_token: refresh, client_id: cimd }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await oauth(h, 'revoke', { token: access, client_id: cimd })).toMatchObject({ status: 200 });
    expect(
      await h.service.domain.tokens.isInvalidated((await h.service.domain.keys.verifyAccessToken(access))!),
    ).toBe(true);
  });

  it('a code issued to the URL client is refused to another client, and the other way round', async () => {
    const other = (
      await h.call<authPb.RegisteredClient>('registerDynamicClient', {
        clientName: 'Other',
        redirectUris: [REDIRECT],
        scopes: [],
        grantTypes: [],
        tokenEndpointAuthMethod: 'none',
        firstParty: false,
      })
    ).client!;
    expect(await exchange(await codeFor(), other.clientId)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    // The internal UUID is no way in either: the client is its URL (so its document is always current).
    const uuid = (await h.knex('clients').where({ metadata_url: cimd }).first()).client_id as string;
    expect(await exchange(await codeFor(), uuid)).toMatchObject({
      status: 400,
      body: { error: 'invalid_client' },
    });
    expect((await check({ clientId: uuid })).errorDescription).toBe('unknown client_id');
    expect(await exchange(await codeFor({ clientId: other.clientId }), cimd)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('refuses a redirect_uri the document does not list, on the page', async () => {
    const checked = await check({ redirectUri: 'http://127.0.0.1:33418/elsewhere' });
    expect(checked).toMatchObject({ error: 'invalid_request', redirectTrusted: false, errorRedirect: '' });
    expect(checked.errorDescription).toMatch(/redirect_uri/);
    await expectError(
      codeFor({ redirectUri: 'http://127.0.0.1:33418/elsewhere' }),
      'invalid_argument',
      'redirect_uri',
    );
  });

  it('refuses a document that names another client_id, on the page and at every endpoint', async () => {
    const liar = url('/liar.json');
    const checked = await check({ clientId: liar });
    expect(checked).toMatchObject({ error: 'invalid_request', redirectTrusted: false, errorRedirect: '' });
    expect(checked.client).toBeUndefined();
    expect(checked.errorDescription).toMatch(
      /^client metadata document at http:\/\/127\.0\.0\.1:\d+\/liar\.json names client_id ".*\/client\.json", not the URL it was fetched from$/,
    );
    await expectError(
      codeFor({ clientId: liar }),
      'invalid_argument',
      'client_id',
      /not the URL it was fetched from/,
    );
    const form = {
      grant_type: 'authorization_code',
      code: 'x',
      code_verifier: pkce().verifier,
      redirect_uri: REDIRECT,
      client_id: liar,
    };
    expect(await oauth(h, 'token', form)).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
    expect(await oauth(h, 'introspect', { token: 'x', client_id: liar })).toMatchObject({
      status: 400,
      body: { error: 'invalid_client' },
    });
    expect(await h.knex('clients').where({ metadata_url: liar }).first()).toBeUndefined();
  });

  it.each([
    ['a query string', () => `${cimd}?x=1`, /must not contain a query string/],
    ['a fragment', () => `${cimd}#x`, /must not contain a fragment/],
    ['no path', () => `${base}/`, /must contain a path/],
    ['an unreachable document', () => url('/missing.json'), /^client metadata document at .*missing\.json/],
  ])('refuses a URL client_id with %s on the page', async (_what, clientId, message) => {
    const checked = await check({ clientId: clientId() });
    expect(checked).toMatchObject({ error: 'invalid_request', redirectTrusted: false, errorRedirect: '' });
    expect(checked.errorDescription).toMatch(message);
  });

  it('a client_id that is neither a UUID nor an http(s) URL is simply unknown', async () => {
    for (const clientId of ['ftp://127.0.0.1/client.json', 'not-a-client', '']) {
      expect(await check({ clientId })).toMatchObject({
        error: 'invalid_request',
        errorDescription: 'unknown client_id',
        redirectTrusted: false,
      });
    }
  });

  it('picks up a changed document once the cached copy expires, keeping the same internal client', async () => {
    expect((await check()).error).toBe('');
    const before = await h.knex('clients').where({ metadata_url: cimd }).first();
    redirectUris = [REDIRECT, NEW_REDIRECT];
    const seen = connections;
    // Still cached: the new URI is not known yet, and nothing was fetched.
    expect(await check({ redirectUri: NEW_REDIRECT })).toMatchObject({
      error: 'invalid_request',
      redirectTrusted: false,
    });
    expect(connections).toBe(seen);
    clock += 61_000;
    expect(await check({ redirectUri: NEW_REDIRECT })).toMatchObject({ error: '', redirectTrusted: true });
    expect(connections).toBe(seen + 1);
    const after = await h.knex('clients').where({ metadata_url: cimd }).first();
    expect(after).toMatchObject({ client_id: before.client_id, redirect_uris: [REDIRECT, NEW_REDIRECT] });
    const c = await codeFor({ redirectUri: NEW_REDIRECT });
    const res = await oauth(h, 'token', {
      grant_type: 'authorization_code',
      code: c.code,
      code_verifier: c.verifier,
      redirect_uri: NEW_REDIRECT,
      client_id: cimd,
    });
    expect(res.status).toBe(200);
  });

  describe('configured by the environment', () => {
    const domainWith = (env: Record<string, string>) => {
      const store = new AuthStore(h.knex);
      const clients = new ClientsService(store, {
        dynamicClientsPerHour: 100,
        metadata: clientMetadataFetcher(loadConfig(authConfigSchema, withInternalKey(env)), testLogger()),
      });
      return {
        clients,
        authorization: new AuthorizationService(store, clients, {
          issuer: 'http://localhost:8001',
          codeTtlSeconds: 300,
        }),
      };
    };

    it('AUTH_CIMD_ALLOW_LOOPBACK=false (the default) refuses the loopback document before any request is made', async () => {
      // A second real service: the refusal must come from the configuration, through gRPC.
      const strict = await startHarness();
      try {
        const seen = connections;
        const httpsLoopback = cimd.replace(/^http:/, 'https:');
        const refused = await strict.call<authPb.AuthorizationCheck>(
          'checkAuthorization',
          request({ clientId: httpsLoopback }).req,
        );
        expect(refused).toMatchObject({
          error: 'invalid_request',
          redirectTrusted: false,
          errorRedirect: '',
        });
        expect(refused.errorDescription).toMatch(
          /resolves to a private address \(127\.0\.0\.1: loopback\), which is refused$/,
        );
        const plain = await strict.call<authPb.AuthorizationCheck>(
          'checkAuthorization',
          request({ clientId: cimd }).req,
        );
        expect(plain).toMatchObject({ error: 'invalid_request', redirectTrusted: false });
        expect(plain.errorDescription).toMatch(/must use the https scheme/);
        expect(
          await oauth(strict, 'token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: cimd }),
        ).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
        expect(connections).toBe(seen);
      } finally {
        await strict.close();
      }
    });

    it('AUTH_CIMD_ENABLED=false makes a URL client_id an unknown client', async () => {
      const { clients, authorization } = domainWith({
        AUTH_CIMD_ENABLED: 'false',
        AUTH_CIMD_ALLOW_LOOPBACK: 'true',
      });
      const seen = connections;
      expect(await clients.resolve(url('/client.json'))).toBeUndefined();
      expect(await authorization.check(request().req)).toMatchObject({
        errorDescription: 'unknown client_id',
        redirectTrusted: false,
      });
      expect(connections).toBe(seen);
    });
  });
});
