import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { authPb } from '@picard/proto';
import { sha256Hex } from '../../src/domain/secrets.js';
import { ADMIN, asUser, expectError, startHarness, type Harness } from './harness.js';
import { basic, oauth, params, pkce } from './oauth-helpers.js';

const PER_HOUR = 12;

/** RFC 7591 dynamic registration, admin client management, and the direct-connect flow's rules. */
describe('auth-service: client registration and management', () => {
  let h: Harness;
  let adminCaller: ReturnType<typeof asUser>;

  const dcr = (patch: Partial<authPb.RegisterClientRequest> = {}) =>
    h.call<authPb.RegisteredClient>('registerDynamicClient', {
      clientName: 'Host',
      redirectUris: ['http://localhost:6274/oauth/callback'],
      scopes: [],
      grantTypes: [],
      tokenEndpointAuthMethod: 'none',
      firstParty: false,
      ...patch,
    });
  const adminRegister = (patch: Partial<authPb.RegisterClientRequest> = {}) =>
    h.call<authPb.RegisteredClient>(
      'registerClient',
      {
        clientName: 'App',
        redirectUris: ['https://app.example.com/cb'],
        scopes: [],
        grantTypes: [],
        tokenEndpointAuthMethod: '',
        firstParty: true,
        ...patch,
      },
      adminCaller,
    );

  beforeAll(async () => {
    h = await startHarness({ AUTH_DYNAMIC_CLIENTS_PER_HOUR: String(PER_HOUR) });
    const admin = await h.call<authPb.User>('authenticateUser', {
      username: ADMIN.username,
      password: ADMIN.password,
    });
    adminCaller = asUser(admin.id, ['memories:admin']);
  });
  afterAll(async () => h?.close());

  describe('RegisterDynamicClient', () => {
    it('registers a public client: no secret, never first-party, no user-token flow, default scopes', async () => {
      const r = await dcr({ firstParty: true });
      expect(r.clientSecret).toBeUndefined();
      expect(r.client).toMatchObject({
        clientName: 'Host',
        redirectUris: ['http://localhost:6274/oauth/callback'],
        scopes: ['memories:read', 'memories:write'],
        grantTypes: ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: 'none',
        firstParty: false,
        userTokenFlowEnabled: false,
      });
      expect(
        (await h.knex('clients').where({ client_id: r.client!.clientId }).first()).secret_hash,
      ).toBeNull();
    });

    it('registers a confidential client whose secret is shown once and stored hashed', async () => {
      const r = await dcr({
        tokenEndpointAuthMethod: 'client_secret_post',
        grantTypes: ['authorization_code', 'refresh_token'],
      });
      expect(r.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(r.client!.grantTypes).not.toContain('client_credentials');
      const row = await h.knex('clients').where({ client_id: r.client!.clientId }).first();
      expect(row.secret_hash).toBe(sha256Hex(r.clientSecret!));
      const basicDefault = await dcr({ tokenEndpointAuthMethod: '' });
      expect(basicDefault.client!.tokenEndpointAuthMethod).toBe('client_secret_basic');
      expect(basicDefault.clientSecret).toBeTruthy();
    });

    it('never grants memories:admin to a dynamic client, and defaults a missing name', async () => {
      const r = await dcr({ clientName: '', scopes: ['memories:read', 'memories:admin'] });
      expect(r.client).toMatchObject({ clientName: 'Unnamed client', scopes: ['memories:read'] });
      expect((await dcr({ scopes: ['memories:admin'] })).client!.scopes).toEqual([
        'memories:read',
        'memories:write',
      ]);
    });

    it.each([
      ['redirect_uris', { redirectUris: [] }],
      ['redirect_uris[0]', { redirectUris: ['http://app.example.com/cb'] }],
      [
        'redirect_uris[1]',
        { redirectUris: ['https://ok.example.com/cb', 'https://app.example.com/cb#frag'] },
      ],
      ['redirect_uris[0]', { redirectUris: ['javascript:alert(1)'] }],
      ['redirect_uris[0]', { redirectUris: ['/relative/cb'] }],
      ['redirect_uris[0]', { redirectUris: ['https://user:pw@app.example.com/cb'] }],
      ['redirect_uris[0]', { redirectUris: [`https://app.example.com/${'x'.repeat(2100)}`] }],
      ['grant_types[0]', { grantTypes: ['password'] }],
      ['grant_types[1]', { grantTypes: ['authorization_code', 'client_credentials'] }],
      ['grant_types[0]', { grantTypes: ['implicit'] }],
      ['token_endpoint_auth_method', { tokenEndpointAuthMethod: 'private_key_jwt' }],
      ['scopes[0]', { scopes: ['openid'] }],
      ['client_name', { clientName: 'n'.repeat(201) }],
    ])('refuses bad metadata naming %s', async (field, patch) => {
      await expectError(dcr(patch), 'invalid_argument', field);
    });

    it('accepts http on every loopback spelling', async () => {
      for (const uri of ['http://127.0.0.1:9/cb', 'http://[::1]:9/cb', 'http://localhost/cb']) {
        expect((await dcr({ redirectUris: [uri] })).client!.redirectUris).toEqual([uri]);
      }
    });
  });

  describe('admin client management', () => {
    it('is for the admin only', async () => {
      const { client } = await adminRegister();
      const user = await h.call<authPb.User>('registerUser', {
        username: 'mallory',
        email: 'm@example.com',
        password: 'mallory-pass-1',
        displayName: '',
      });
      for (const call of [
        () =>
          h.call(
            'updateClient',
            { clientId: client!.clientId, redirectUris: [], scopes: [] },
            asUser(user.id, ['memories:admin']),
          ),
        () => h.call('deleteClient', { clientId: client!.clientId }, asUser(user.id)),
        () => h.call('rotateClientSecret', { clientId: client!.clientId }, asUser(user.id)),
      ]) {
        await expectError(call(), 'permission_denied');
      }
      await expectError(h.call('deleteClient', { clientId: client!.clientId }), 'unauthenticated');
      await expectError(
        h.call('updateClient', { clientId: 'nope', redirectUris: [], scopes: [] }, adminCaller),
        'invalid_argument',
        'client_id',
      );
      await expectError(
        h.call('rotateClientSecret', { clientId: crypto.randomUUID() }, adminCaller),
        'not_found',
      );
    });

    it('updates name, redirect URIs, scopes and the user-token flow, validating each', async () => {
      const { client } = await adminRegister();
      const id = client!.clientId;
      const updated = await h.call<authPb.Client>(
        'updateClient',
        {
          clientId: id,
          clientName: 'Renamed',
          redirectUris: ['https://new.example.com/cb'],
          scopes: ['memories:read'],
          userTokenFlowEnabled: false,
        },
        adminCaller,
      );
      expect(updated).toMatchObject({
        clientName: 'Renamed',
        redirectUris: ['https://new.example.com/cb'],
        scopes: ['memories:read'],
        userTokenFlowEnabled: false,
      });
      expect(
        await h.call<authPb.Client>(
          'updateClient',
          { clientId: id, redirectUris: [], scopes: [] },
          adminCaller,
        ),
      ).toMatchObject({ clientName: 'Renamed' });
      await expectError(
        h.call(
          'updateClient',
          { clientId: id, redirectUris: ['http://evil.example/cb'], scopes: [] },
          adminCaller,
        ),
        'invalid_argument',
        'redirect_uris[0]',
      );
      await expectError(
        h.call('updateClient', { clientId: id, redirectUris: [], scopes: ['root'] }, adminCaller),
        'invalid_argument',
        'scopes[0]',
      );
      const dyn = await dcr();
      await expectError(
        h.call(
          'updateClient',
          { clientId: dyn.client!.clientId, redirectUris: [], scopes: [], userTokenFlowEnabled: true },
          adminCaller,
        ),
        'invalid_argument',
        'user_token_flow_enabled',
      );
    });

    it('rotates a secret: the old one stops working at once; public clients have none', async () => {
      const reg = await adminRegister({ redirectUris: [], grantTypes: ['refresh_token'] });
      const id = reg.client!.clientId;
      const rotated = await h.call<authPb.RegisteredClient>(
        'rotateClientSecret',
        { clientId: id },
        adminCaller,
      );
      expect(rotated.clientSecret).toBeTruthy();
      expect(rotated.clientSecret).not.toBe(reg.clientSecret);
      const issue = (secret: string) =>
        h.call<authPb.TokenResponse>('issueUserToken', {
          clientId: id,
          clientSecret: secret,
          username: 'rot-user',
          email: 'r@example.com',
          createIfMissing: true,
        });
      await expectError(issue(reg.clientSecret!), 'unauthenticated');
      expect((await issue(rotated.clientSecret!)).accessToken).toBeTruthy();
      await expectError(
        h.call('rotateClientSecret', { clientId: (await dcr()).client!.clientId }, adminCaller),
        'unprocessable',
        'client_id',
      );
    });

    it('deletes a client: its refresh tokens stop working and it is gone', async () => {
      const reg = await adminRegister({ redirectUris: [], grantTypes: ['refresh_token'] });
      const id = reg.client!.clientId;
      const t = await h.call<authPb.TokenResponse>('issueUserToken', {
        clientId: id,
        clientSecret: reg.clientSecret!,
        username: 'del-user',
        email: 'd@example.com',
        createIfMissing: true,
      });
      expect(
        await h.call<authPb.DeleteClientResponse>('deleteClient', { clientId: id }, adminCaller),
      ).toEqual({ clientId: id, deleted: true });
      expect(
        await oauth(
          h,
          'token',
          { grant_type: 'refresh_token', refresh_token: t.refreshToken },
          basic(id, reg.clientSecret!),
        ),
      ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(await h.knex('refresh_tokens').where({ client_id: id })).toHaveLength(0);
      await expectError(h.call('getClient', { clientId: id }, adminCaller), 'not_found');
      await expectError(h.call('deleteClient', { clientId: id }, adminCaller), 'not_found');
      // The user the flow created remains, no longer tied to a client.
      expect((await h.knex('users').where({ id: t.userId }).first()).created_by_client_id).toBeNull();
    });
  });

  describe('direct-connect hardening', () => {
    it('mints tokens only for users the client created or who consented to it', async () => {
      const a = await adminRegister({ redirectUris: ['https://a.example.com/cb'] });
      const b = await adminRegister({ redirectUris: ['https://b.example.com/cb'] });
      const issue = (c: authPb.RegisteredClient, username: string, email: string) =>
        h.call<authPb.TokenResponse>('issueUserToken', {
          clientId: c.client!.clientId,
          clientSecret: c.clientSecret!,
          username,
          email,
          createIfMissing: true,
        });
      const byA = await issue(a, 'flow-user', 'flow@example.com');
      expect((await h.knex('users').where({ id: byA.userId }).first()).created_by_client_id).toBe(
        a.client!.clientId,
      );
      expect((await issue(a, 'FLOW-USER', 'flow@example.com')).userId).toBe(byA.userId);
      await expectError(
        issue(b, 'flow-user', 'flow@example.com'),
        'permission_denied',
        undefined,
        /who consented/,
      );
      // A user who signed up on their own is off limits too, until they approve the client.
      const self = await h.call<authPb.User>('registerUser', {
        username: 'self-made',
        email: 'self@example.com',
        password: 'self-made-pass',
        displayName: '',
      });
      await expectError(issue(b, 'self-made', 'self@example.com'), 'permission_denied');
      const { challenge } = pkce();
      const res = await h.call<authPb.AuthorizeResponse>(
        'authorize',
        {
          userId: self.id,
          clientId: b.client!.clientId,
          redirectUri: 'https://b.example.com/cb',
          scope: '',
          state: '',
          codeChallenge: challenge,
          codeChallengeMethod: 'S256',
          resource: '',
          approved: true,
        },
        asUser(self.id),
      );
      expect(params(res.redirectTo).code).toBeTruthy();
      const t = await issue(b, 'self-made', 'self@example.com');
      expect(t.userId).toBe(self.id);
    });

    it('stops when the admin disables the flow for the client', async () => {
      const c = await adminRegister({ redirectUris: [], grantTypes: ['refresh_token'] });
      const issue = () =>
        h.call<authPb.TokenResponse>('issueUserToken', {
          clientId: c.client!.clientId,
          clientSecret: c.clientSecret!,
          username: 'toggle-user',
          email: 't@example.com',
          createIfMissing: true,
        });
      await issue();
      await h.call(
        'updateClient',
        { clientId: c.client!.clientId, redirectUris: [], scopes: [], userTokenFlowEnabled: false },
        adminCaller,
      );
      await expectError(issue(), 'permission_denied');
      await h.call(
        'updateClient',
        { clientId: c.client!.clientId, redirectUris: [], scopes: [], userTokenFlowEnabled: true },
        adminCaller,
      );
      expect((await issue()).accessToken).toBeTruthy();
    });
  });

  // Last: it uses up the hour's budget.
  it('caps dynamic registrations per hour (resource_exhausted), across the whole service', async () => {
    const count = async () =>
      Number(
        (await h.knex('clients').where({ first_party: false }).count<{ n: string }[]>({ n: '*' }))[0]!.n,
      );
    while ((await count()) < PER_HOUR) await dcr();
    await expectError(dcr(), 'resource_exhausted', undefined, /too many client registrations/);
    expect(await count()).toBe(PER_HOUR);
    // An hour later the budget is back.
    await h
      .knex('clients')
      .where({ first_party: false })
      .update({ created_at: new Date(Date.now() - 3601_000) });
    expect((await dcr()).client).toBeTruthy();
  });
});
