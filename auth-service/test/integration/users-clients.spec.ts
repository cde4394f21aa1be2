import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { authPb } from '@picard/proto';
import { ConfigError, isUuid } from '@picard/service-kit';
import { loadConfig } from '@picard/service-kit';
import { authConfigSchema } from '../../src/config.js';
import { sha256Hex } from '../../src/domain/secrets.js';
import { ADMIN, asUser, expectError, startHarness, type Harness } from './harness.js';
import { withInternalKey } from '@picard/service-kit/testing';

const NEW_ADMIN_PASSWORD = 'changed-password-2';

describe('auth-service: users and clients', () => {
  let h: Harness;
  let admin: authPb.User;
  let adminCaller: ReturnType<typeof asUser>;
  let registered: authPb.RegisteredClient;
  let alice: string;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  describe('admin bootstrap', () => {
    it('creates the admin from PICARD_ADMIN_* and authenticates it', async () => {
      admin = await h.call<authPb.User>('authenticateUser', {
        username: ADMIN.username.toUpperCase(),
        password: ADMIN.password,
      });
      expect(admin).toMatchObject({
        username: ADMIN.username,
        email: ADMIN.email,
        isAdmin: true,
        active: true,
      });
      expect(isUuid(admin.id)).toBe(true);
      adminCaller = asUser(admin.id, ['memories:admin']);
    });

    it('stores the password as a scrypt hash only', async () => {
      const row = await h.knex('users').where({ id: admin.id }).first();
      expect(row.password_hash).toMatch(/^scrypt\$/);
      expect(row.password_hash).not.toContain(ADMIN.password);
      expect(JSON.stringify(row)).not.toContain(ADMIN.password);
    });

    it('refuses a wrong password and an unknown user with one message', async () => {
      await expectError(
        h.call('authenticateUser', { username: ADMIN.username, password: 'wrong-password' }),
        'unauthenticated',
        undefined,
        /^invalid username or password$/,
      );
      await expectError(
        h.call('authenticateUser', { username: 'nobody-here', password: ADMIN.password }),
        'unauthenticated',
        undefined,
        /^invalid username or password$/,
      );
      await expectError(
        h.call('authenticateUser', { username: 'x'.repeat(5000), password: 'p' }),
        'unauthenticated',
      );
    });

    it('updates the admin (the start-up path) without creating a second one', async () => {
      const again = await h.service.domain.users.ensureAdmin({
        username: ADMIN.username,
        password: NEW_ADMIN_PASSWORD,
        email: 'new@example.com',
      });
      expect(again.id).toBe(admin.id);
      await expectError(
        h.call('authenticateUser', { username: ADMIN.username, password: ADMIN.password }),
        'unauthenticated',
      );
      const user = await h.call<authPb.User>('authenticateUser', {
        username: ADMIN.username,
        password: NEW_ADMIN_PASSWORD,
      });
      expect(user.email).toBe('new@example.com');
      const count = await h.knex('users').where({ is_admin: true }).count<{ n: string }[]>({ n: '*' });
      expect(Number(count[0]!.n)).toBe(1);
    });

    it('EnsureAdmin over gRPC is for the admin only, and validates', async () => {
      const req = { username: ADMIN.username, password: NEW_ADMIN_PASSWORD, email: 'new@example.com' };
      await expectError(h.call('ensureAdmin', req), 'unauthenticated');
      await expectError(
        h.call('ensureAdmin', req, asUser(crypto.randomUUID(), ['memories:admin'])),
        'permission_denied',
      );
      await expectError(
        h.call('ensureAdmin', { ...req, password: 'short' }, adminCaller),
        'invalid_argument',
        'password',
      );
      await expectError(
        h.call('ensureAdmin', { ...req, username: 'bad name' }, adminCaller),
        'invalid_argument',
        'username',
      );
      expect((await h.call<authPb.User>('ensureAdmin', req, adminCaller)).id).toBe(admin.id);
    });

    it('stops start-up on a bad admin configuration, naming the variable', () => {
      const bad = (env: Record<string, string>) => {
        try {
          loadConfig(authConfigSchema, withInternalKey(env));
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          return (err as Error).message;
        }
        throw new Error('expected a ConfigError');
      };
      const short = bad({ PICARD_ADMIN_USERNAME: 'admin', PICARD_ADMIN_PASSWORD: 'pw-1234' });
      expect(short).toMatch(/PICARD_ADMIN_PASSWORD=\(hidden\): must be at least 8 characters/);
      expect(short).not.toContain('pw-1234');
      expect(bad({ PICARD_ADMIN_USERNAME: 'admin' })).toMatch(/PICARD_ADMIN_PASSWORD/);
      expect(
        bad({
          PICARD_ADMIN_USERNAME: 'admin',
          PICARD_ADMIN_PASSWORD: 'long-enough',
          PICARD_ADMIN_EMAIL: 'nope',
        }),
      ).toMatch(/PICARD_ADMIN_EMAIL/);
    });
  });

  describe('RegisterClient / GetClient / ListClients', () => {
    const body = {
      clientName: 'Demo app',
      redirectUris: ['https://app.example.com/cb'],
      scopes: [],
      grantTypes: [],
      tokenEndpointAuthMethod: '',
      firstParty: false,
    };

    it('registers a first-party client for the admin, showing the secret once and storing its hash', async () => {
      registered = await h.call<authPb.RegisteredClient>('registerClient', body, adminCaller);
      const c = registered.client!;
      expect(isUuid(c.clientId)).toBe(true);
      expect(c).toMatchObject({
        clientName: 'Demo app',
        redirectUris: ['https://app.example.com/cb'],
        scopes: ['memories:read', 'memories:write'],
        grantTypes: ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        firstParty: true,
        userTokenFlowEnabled: true,
      });
      expect(registered.clientSecret!.length).toBeGreaterThanOrEqual(43);
      const row = await h.knex('clients').where({ client_id: c.clientId }).first();
      expect(row.secret_hash).toBe(sha256Hex(registered.clientSecret!));
      expect(JSON.stringify(row)).not.toContain(registered.clientSecret!);
      expect(row.created_by_user_id).toBe(admin.id);
      const fetched = await h.call<authPb.Client>('getClient', { clientId: c.clientId }, adminCaller);
      expect(fetched).toEqual(c);
      const list = await h.call<authPb.ListClientsResponse>('listClients', {}, adminCaller);
      expect(list.clients.map((x) => x.clientId)).toContain(c.clientId);
    });

    it('refuses callers that are not the admin account, even with the admin scope', async () => {
      const user = await h.call<authPb.TokenResponse>('issueUserToken', {
        clientId: registered.client!.clientId,
        clientSecret: registered.clientSecret,
        username: 'alice',
        email: 'alice@example.com',
        createIfMissing: true,
      });
      alice = user.userId;
      for (const caller of [
        asUser(alice, ['memories:admin']),
        asUser(crypto.randomUUID(), ['memories:admin']),
        asUser('not-a-uuid', ['memories:admin']),
      ]) {
        await expectError(h.call('registerClient', body, caller), 'permission_denied');
        await expectError(h.call('listClients', {}, caller), 'permission_denied');
        await expectError(
          h.call('getClient', { clientId: registered.client!.clientId }, caller),
          'permission_denied',
        );
      }
      await expectError(h.call('registerClient', body), 'unauthenticated');
      await expectError(h.call('listClients', {}), 'unauthenticated');
    });

    it.each([
      ['redirect_uris[1]', { redirectUris: ['https://ok.example.com/cb', 'http://evil.example.com/cb'] }],
      ['redirect_uris[0]', { redirectUris: ['https://ok.example.com/cb#x'] }],
      ['redirect_uris[0]', { redirectUris: ['relative/cb'] }],
      ['scopes[1]', { scopes: ['memories:read', 'everything'] }],
      ['client_name', { clientName: '' }],
      ['client_name', { clientName: 'x'.repeat(201) }],
      ['grant_types[0]', { grantTypes: ['password'] }],
      ['token_endpoint_auth_method', { tokenEndpointAuthMethod: 'none' }],
    ])('refuses a bad %s (case %#), writing nothing', async (field, patch) => {
      const before = await h.knex('clients').count<{ n: string }[]>({ n: '*' });
      await expectError(
        h.call('registerClient', { ...body, ...patch }, adminCaller),
        'invalid_argument',
        field,
      );
      const after = await h.knex('clients').count<{ n: string }[]>({ n: '*' });
      expect(after[0]!.n).toBe(before[0]!.n);
    });

    it('accepts authorization_code without a redirect URI (unusable until UpdateClient adds one)', async () => {
      const reg = await h.call<authPb.RegisteredClient>(
        'registerClient',
        { ...body, redirectUris: [], grantTypes: ['authorization_code', 'refresh_token'] },
        adminCaller,
      );
      expect(reg.client).toMatchObject({
        redirectUris: [],
        grantTypes: ['authorization_code', 'refresh_token'],
      });
      const check = await h.call<authPb.AuthorizationCheck>('checkAuthorization', {
        userId: '',
        clientId: reg.client!.clientId,
        redirectUri: 'https://app.example.com/cb',
        scope: '',
        state: '',
        codeChallenge: 'x'.repeat(43),
        codeChallengeMethod: 'S256',
        resource: '',
        approved: false,
      });
      expect(check).toMatchObject({ error: 'invalid_request', redirectTrusted: false });
    });

    it('GetClient checks the id', async () => {
      await expectError(
        h.call('getClient', { clientId: 'nope' }, adminCaller),
        'invalid_argument',
        'client_id',
      );
      await expectError(h.call('getClient', { clientId: crypto.randomUUID() }, adminCaller), 'not_found');
    });
  });

  describe('GetUser', () => {
    it('lets users read themselves and admins read anyone', async () => {
      expect((await h.call<authPb.User>('getUser', { userId: alice }, asUser(alice))).username).toBe('alice');
      expect((await h.call<authPb.User>('getUser', { userId: alice }, adminCaller)).username).toBe('alice');
      // The admin scope alone counts for reading users.
      expect(
        (
          await h.call<authPb.User>(
            'getUser',
            { userId: admin.id },
            asUser(crypto.randomUUID(), ['memories:admin']),
          )
        ).isAdmin,
      ).toBe(true);
    });

    it('refuses other users, missing identity and bad ids', async () => {
      await expectError(h.call('getUser', { userId: admin.id }, asUser(alice)), 'permission_denied');
      await expectError(h.call('getUser', { userId: alice }), 'unauthenticated');
      await expectError(h.call('getUser', { userId: 'abc' }, asUser(alice)), 'invalid_argument', 'user_id');
      await expectError(h.call('getUser', { userId: crypto.randomUUID() }, adminCaller), 'not_found');
    });
  });
});
