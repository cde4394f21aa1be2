import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { authPb } from '@picard/proto';
import { sha256Hex } from '../../src/domain/secrets.js';
import { ADMIN, asUser, startHarness, waitFor, type Harness } from './harness.js';
import { basic, basicFormEncoded, formEncoded, jwtPayload, oauth, params, pkce } from './oauth-helpers.js';

const ISSUER = 'http://localhost:8001';
const REDIRECT = 'http://127.0.0.1:33418/callback';
const CONF_REDIRECT = 'https://app.example.com/oauth/callback';

/** The token endpoint's authorization_code and client_credentials grants. */
describe('auth-service: authorization_code and client_credentials grants', () => {
  let h: Harness;
  let user: authPb.User;
  let pub: authPb.Client;
  let conf: { id: string; secret: string };
  let jwks: ReturnType<typeof createLocalJWKSet>;

  /** Runs Authorize for the user and returns the code with its verifier. */
  const codeFor = async (patch: Partial<authPb.AuthorizeRequest> = {}) => {
    const { verifier, challenge } = pkce();
    const req = {
      userId: user.id,
      clientId: pub.clientId,
      redirectUri: REDIRECT,
      scope: '',
      state: 's',
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      resource: '',
      approved: true,
      ...patch,
    };
    const res = await h.call<authPb.AuthorizeResponse>('authorize', req, asUser(user.id));
    const code = params(res.redirectTo).code;
    if (!code) throw new Error(`no code in ${res.redirectTo}`);
    return { code, verifier };
  };
  const exchange = (
    code: string,
    verifier: string | undefined,
    extra: Record<string, string> = {},
    headers: Record<string, string> = {},
  ) =>
    oauth(
      h,
      'token',
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        client_id: pub.clientId,
        ...(verifier === undefined ? {} : { code_verifier: verifier }),
        ...extra,
      },
      headers,
    );

  beforeAll(async () => {
    h = await startHarness();
    const admin = await h.call<authPb.User>('authenticateUser', {
      username: ADMIN.username,
      password: ADMIN.password,
    });
    user = await h.call<authPb.User>('registerUser', {
      username: 'erin',
      email: 'erin@example.com',
      password: 'erin-password-1',
      displayName: '',
    });
    pub = (
      await h.call<authPb.RegisteredClient>('registerDynamicClient', {
        clientName: 'CLI',
        redirectUris: [REDIRECT],
        scopes: [],
        grantTypes: [],
        tokenEndpointAuthMethod: 'none',
        firstParty: false,
      })
    ).client!;
    const reg = await h.call<authPb.RegisteredClient>(
      'registerClient',
      {
        clientName: 'Web app',
        redirectUris: [CONF_REDIRECT],
        scopes: ['memories:read', 'memories:write', 'memories:admin'],
        grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        firstParty: true,
      },
      asUser(admin.id),
    );
    conf = { id: reg.client!.clientId, secret: reg.clientSecret! };
    // client_credentials is granted only to a service principal the admin made (issue #11).
    await h.call(
      'updateClient',
      { clientId: conf.id, redirectUris: [], scopes: [], servicePrincipal: true },
      asUser(admin.id),
    );
    jwks = createLocalJWKSet(
      JSON.parse((await h.call<authPb.Jwks>('getJwks', {})).keysJson) as JSONWebKeySet,
    );
  });
  afterAll(async () => h?.close());

  it('a public client redeems a code with client_id and code_verifier only', async () => {
    const { code, verifier } = await codeFor({ scope: 'memories:read' });
    const res = await exchange(code, verifier);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'memories:read' });
    expect(res.body.expires_in).toBeGreaterThan(3590);
    const { payload, protectedHeader } = await jwtVerify(String(res.body.access_token), jwks, {
      issuer: ISSUER,
      audience: ISSUER,
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      sub: user.id,
      client_id: pub.clientId,
      scope: 'memories:read',
      aud: ISSUER,
    });
    // The refresh token works for the public client too, without a secret.
    const refreshed = await oauth(h, 'token', {
      grant_type: 'refresh_token',
      refresh_token: String(res.body.refresh_token),
      client_id: pub.clientId,
    });
    expect(refreshed).toMatchObject({ status: 200, body: { scope: 'memories:read' } });
  });

  it('binds the access token to the requested resource, through refreshes too', async () => {
    const { code, verifier } = await codeFor({ resource: `${ISSUER}/mcp` });
    const res = await exchange(code, verifier);
    expect(jwtPayload(String(res.body.access_token)).aud).toBe(`${ISSUER}/mcp`);
    const refreshed = await oauth(h, 'token', {
      grant_type: 'refresh_token',
      refresh_token: String(res.body.refresh_token),
      client_id: pub.clientId,
    });
    expect(jwtPayload(String(refreshed.body.access_token)).aud).toBe(`${ISSUER}/mcp`);
    // auth-service's own verification (introspection, revocation) accepts both audiences.
    const verified = await h.service.domain.keys.verifyAccessToken(String(refreshed.body.access_token));
    expect(verified).toMatchObject({ aud: `${ISSUER}/mcp`, sub: user.id });
  });

  it.each([
    ['a wrong code_verifier', (v: string) => `${v.slice(0, -1)}${v.endsWith('A') ? 'B' : 'A'}`],
    ['a missing code_verifier', () => undefined],
  ])('refuses %s with invalid_grant, and the code is spent', async (_what, spoil) => {
    const { code, verifier } = await codeFor();
    expect(await exchange(code, spoil(verifier))).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(await exchange(code, verifier)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses a second use of a code and revokes everything the first use issued', async () => {
    const { code, verifier } = await codeFor();
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    const jti = String(jwtPayload(String(first.body.access_token)).jti);
    const replay = await exchange(code, verifier);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The refresh token of the first use is dead, and the access token is on the deny-list and published.
    const refresh = await oauth(h, 'token', {
      grant_type: 'refresh_token',
      refresh_token: String(first.body.refresh_token),
      client_id: pub.clientId,
    });
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const list = await h.call<authPb.ListRevocationsResponse>('listRevocations', {});
    expect(list.revocations.map((r) => r.jti)).toContain(jti);
    await waitFor(() =>
      h.events.find((e) => e.subject === 'auth.token.revoked' && (e.payload as { jti: string }).jti === jti),
    );
    const verified = await h.service.domain.keys.verifyAccessToken(String(first.body.access_token));
    expect(await h.service.domain.tokens.isInvalidated(verified!)).toBe(true);
  });

  it('refuses an expired code', async () => {
    const { code, verifier } = await codeFor();
    await h
      .knex('authorization_codes')
      .where({ code_hash: sha256Hex(code) })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const res = await exchange(code, verifier);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(String(res.body.error_description)).toMatch(/expired/);
  });

  it('refuses a redirect_uri that differs from the authorization request (or is missing)', async () => {
    const a = await codeFor();
    expect(await exchange(a.code, a.verifier, { redirect_uri: `${REDIRECT}/` })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    const b = await codeFor();
    const { redirect_uri: _drop, ...noRedirect } = {
      grant_type: 'authorization_code',
      code: b.code,
      code_verifier: b.verifier,
      client_id: pub.clientId,
      redirect_uri: '',
    };
    expect(await oauth(h, 'token', noRedirect)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('refuses a code issued to another client, and an unknown code', async () => {
    const { code, verifier } = await codeFor();
    const stolen = await oauth(
      h,
      'token',
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
      basic(conf.id, conf.secret),
    );
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await exchange('no-such-code', pkce().verifier)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  describe('confidential client', () => {
    const confCode = async () => {
      const { verifier, challenge } = pkce();
      const res = await h.call<authPb.AuthorizeResponse>(
        'authorize',
        {
          userId: user.id,
          clientId: conf.id,
          redirectUri: CONF_REDIRECT,
          scope: 'memories:read memories:write',
          state: '',
          codeChallenge: challenge,
          codeChallengeMethod: 'S256',
          resource: '',
          approved: true,
        },
        asUser(user.id),
      );
      return { code: params(res.redirectTo).code!, verifier };
    };
    const form = (c: { code: string; verifier: string }) => ({
      grant_type: 'authorization_code',
      code: c.code,
      code_verifier: c.verifier,
      redirect_uri: CONF_REDIRECT,
    });

    it('redeems with its secret (Basic or body)', async () => {
      expect((await oauth(h, 'token', form(await confCode()), basic(conf.id, conf.secret))).status).toBe(200);
      expect(
        (
          await oauth(h, 'token', {
            ...form(await confCode()),
            client_id: conf.id,
            client_secret: conf.secret,
          })
        ).status,
      ).toBe(200);
    });

    it('is refused without its secret, or with a wrong one', async () => {
      expect(await oauth(h, 'token', { ...form(await confCode()), client_id: conf.id })).toMatchObject({
        status: 400,
        body: { error: 'invalid_client' },
      });
      const wrong = await oauth(h, 'token', form(await confCode()), basic(conf.id, 'wrong-secret'));
      expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(wrong.headers['www-authenticate']).toMatch(/^Basic/);
      expect(
        await oauth(h, 'token', {
          ...form(await confCode()),
          client_id: conf.id,
          client_secret: 'wrong-secret',
        }),
      ).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
      // Refresh without the secret is refused as well.
      const ok = await oauth(h, 'token', form(await confCode()), basic(conf.id, conf.secret));
      expect(
        await oauth(h, 'token', {
          grant_type: 'refresh_token',
          refresh_token: String(ok.body.refresh_token),
          client_id: conf.id,
        }),
      ).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
    });

    it('form-encoded Basic credentials (RFC 6749 §2.3.1, as openid-client sends them) work at every endpoint', async () => {
      // The client id is a UUID, so its '-' is always escaped; the secret's '-' and '_' too when it has any.
      expect(formEncoded(conf.id)).not.toBe(conf.id);
      const creds = basicFormEncoded(conf.id, conf.secret);
      const code = await oauth(h, 'token', form(await confCode()), creds);
      expect(code).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
      const refreshed = await oauth(
        h,
        'token',
        { grant_type: 'refresh_token', refresh_token: String(code.body.refresh_token) },
        creds,
      );
      expect(refreshed).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
      expect(await oauth(h, 'token', { grant_type: 'client_credentials' }, creds)).toMatchObject({
        status: 200,
      });
      expect(
        await oauth(h, 'introspect', { token: String(refreshed.body.access_token) }, creds),
      ).toMatchObject({ status: 200, body: { active: true } });
      expect(await oauth(h, 'revoke', { token: String(refreshed.body.refresh_token) }, creds)).toMatchObject({
        status: 200,
      });
      // A wrong secret is still refused, encoded or not, and a secret that only decodes right is not the secret.
      for (const wrong of [
        basicFormEncoded(conf.id, `${conf.secret}-`),
        basicFormEncoded(conf.id, 'wrong secret/+='),
        basic(conf.id, formEncoded(`${conf.secret}~`)),
      ]) {
        const res = await oauth(h, 'token', form(await confCode()), wrong);
        expect(res).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
        expect(res.headers['www-authenticate']).toMatch(/^Basic/);
        expect(await oauth(h, 'introspect', { token: 'x' }, wrong)).toMatchObject({
          status: 401,
          body: { error: 'invalid_client' },
        });
      }
      // Malformed Basic (no colon) is an invalid client, not a crash.
      const noColon = { Authorization: `Basic ${Buffer.from(conf.id).toString('base64')}` };
      expect(await oauth(h, 'token', form(await confCode()), noColon)).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
    });

    it('client_credentials: the client acts as itself, without a refresh token or the admin scope', async () => {
      const res = await oauth(h, 'token', { grant_type: 'client_credentials' }, basic(conf.id, conf.secret));
      expect(res).toMatchObject({
        status: 200,
        body: { token_type: 'Bearer', scope: 'memories:read memories:write' },
      });
      expect(res.body.refresh_token).toBeUndefined();
      const { payload } = await jwtVerify(String(res.body.access_token), jwks, {
        issuer: ISSUER,
        audience: ISSUER,
      });
      expect(payload).toMatchObject({ sub: conf.id, client_id: conf.id, svc: true });
      expect(
        await oauth(
          h,
          'token',
          { grant_type: 'client_credentials', scope: 'memories:read' },
          basic(conf.id, conf.secret),
        ),
      ).toMatchObject({ status: 200, body: { scope: 'memories:read' } });
      expect(
        await oauth(
          h,
          'token',
          { grant_type: 'client_credentials', scope: 'memories:admin' },
          basic(conf.id, conf.secret),
        ),
      ).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
      expect(
        await oauth(h, 'token', { grant_type: 'client_credentials' }, basic(conf.id, 'wrong')),
      ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(await oauth(h, 'token', { grant_type: 'client_credentials', client_id: conf.id })).toMatchObject(
        { status: 400, body: { error: 'invalid_client' } },
      );
    });

    it('client_credentials is refused to public clients and to clients without the grant', async () => {
      // A public client has no secret, and client_credentials always needs one.
      expect(
        await oauth(h, 'token', { grant_type: 'client_credentials', client_id: pub.clientId }),
      ).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
      const dyn = await h.call<authPb.RegisteredClient>('registerDynamicClient', {
        clientName: 'Conf',
        redirectUris: [CONF_REDIRECT],
        scopes: [],
        grantTypes: [],
        tokenEndpointAuthMethod: 'client_secret_post',
        firstParty: false,
      });
      expect(
        await oauth(h, 'token', {
          grant_type: 'client_credentials',
          client_id: dyn.client!.clientId,
          client_secret: dyn.clientSecret!,
        }),
      ).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    });
  });
});
