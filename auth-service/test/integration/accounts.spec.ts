import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { authPb } from '@picard/proto';
import { ADMIN, asUser, expectError, startHarness, waitFor, type Harness } from './harness.js';
import { oauth, params, pkce } from './oauth-helpers.js';

const REDIRECT = 'http://127.0.0.1:40001/cb';

/** Users: sign-up, login throttling, profile, password change, deactivation, admin listing. */
describe('auth-service: accounts', () => {
  let h: Harness;
  let admin: authPb.User;
  let adminCaller: ReturnType<typeof asUser>;
  let n = 0;

  const signUp = (patch: Partial<authPb.RegisterUserRequest> = {}) => {
    n += 1;
    return h.call<authPb.User>('registerUser', {
      username: `user-${n}`,
      email: `u${n}@example.com`,
      password: 'long-password-1',
      displayName: '',
      ...patch,
    });
  };
  const login = (username: string, password: string, remoteIp = '') =>
    h.call<authPb.User>('authenticateUser', { username, password, remoteIp });

  beforeAll(async () => {
    h = await startHarness({ AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', AUTH_LOGIN_MAX_FAILURES_PER_IP: '5' });
    admin = await login(ADMIN.username, ADMIN.password);
    adminCaller = asUser(admin.id, ['memories:admin']);
  });
  afterAll(async () => h?.close());

  describe('RegisterUser', () => {
    it('creates an active non-admin user, publishes auth.user.created, and lets them log in', async () => {
      const u = await signUp({ username: 'Frank.B', email: ' frank@example.com ', displayName: ' Frank B ' });
      expect(u).toMatchObject({
        username: 'Frank.B',
        email: 'frank@example.com',
        displayName: 'Frank B',
        isAdmin: false,
        active: true,
      });
      await waitFor(() =>
        h.events.find(
          (e) => e.subject === 'auth.user.created' && (e.payload as { user_id: string }).user_id === u.id,
        ),
      );
      expect((await login('frank.b', 'long-password-1')).id).toBe(u.id);
      expect((await signUp({ displayName: '' })).displayName).toBe(`user-${n}`);
    });

    it('refuses a taken username, case-insensitively, naming username', async () => {
      await signUp({ username: 'grace' });
      await expectError(signUp({ username: 'GRACE' }), 'already_exists', 'username');
      await expectError(signUp({ username: ADMIN.username }), 'already_exists', 'username');
    });

    it.each([
      ['username', { username: 'ab' }],
      ['username', { username: 'has space' }],
      ['username', { username: 'x'.repeat(65) }],
      ['email', { email: 'not-an-email' }],
      ['email', { email: '' }],
      ['password', { password: 'nine-char' }],
      ['password', { password: 'p'.repeat(1025) }],
      ['display_name', { displayName: 'd'.repeat(201) }],
    ])('validates %s', async (field, patch) => {
      await expectError(signUp(patch), 'invalid_argument', field);
    });
  });

  describe('AuthenticateUser rate limits', () => {
    it('locks an account after repeated failures, even for the right password, and says when to retry', async () => {
      const u = await signUp();
      for (let i = 0; i < 3; i++) await expectError(login(u.username, 'wrong-password'), 'unauthenticated');
      const locked = await expectError(login(u.username, 'long-password-1'), 'resource_exhausted');
      expect(locked.message).toMatch(/^too many attempts, try again in \d+ s$/);
      // Another account is unaffected.
      const other = await signUp();
      expect((await login(other.username, 'long-password-1')).id).toBe(other.id);
    });

    it('a successful login resets the account counter', async () => {
      const u = await signUp();
      for (let i = 0; i < 2; i++) await expectError(login(u.username, 'wrong-password'), 'unauthenticated');
      await login(u.username, 'long-password-1');
      for (let i = 0; i < 2; i++) await expectError(login(u.username, 'wrong-password'), 'unauthenticated');
      expect((await login(u.username, 'long-password-1')).id).toBe(u.id);
    });

    it('limits failures per remote IP across accounts (and unknown usernames count)', async () => {
      const ip = '203.0.113.9';
      for (let i = 0; i < 5; i++)
        await expectError(login(`ghost-${i}`, 'whatever-pass', ip), 'unauthenticated');
      const u = await signUp();
      await expectError(login(u.username, 'long-password-1', ip), 'resource_exhausted');
      expect((await login(u.username, 'long-password-1', '198.51.100.7')).id).toBe(u.id);
    });
  });

  describe('profile and password', () => {
    it('updates the own email and display name; others only by the admin', async () => {
      const u = await signUp();
      const me = asUser(u.id);
      expect(
        await h.call<authPb.User>(
          'updateUser',
          { userId: u.id, email: 'new@example.com', displayName: 'New Name' },
          me,
        ),
      ).toMatchObject({ email: 'new@example.com', displayName: 'New Name', username: u.username });
      expect((await h.call<authPb.User>('updateUser', { userId: u.id }, me)).email).toBe('new@example.com');
      await expectError(
        h.call('updateUser', { userId: u.id, email: 'bad' }, me),
        'invalid_argument',
        'email',
      );
      await expectError(
        h.call('updateUser', { userId: u.id, displayName: '  ' }, me),
        'invalid_argument',
        'display_name',
      );
      const other = await signUp();
      await expectError(
        h.call('updateUser', { userId: other.id, displayName: 'Hacked' }, me),
        'permission_denied',
      );
      await expectError(
        h.call('updateUser', { userId: other.id, displayName: 'Hacked' }, asUser(u.id, ['memories:admin'])),
        'permission_denied',
      );
      expect(
        (await h.call<authPb.User>('updateUser', { userId: other.id, displayName: 'By admin' }, adminCaller))
          .displayName,
      ).toBe('By admin');
      await expectError(h.call('updateUser', { userId: u.id, displayName: 'x' }), 'unauthenticated');
      await expectError(
        h.call('updateUser', { userId: 'nope', displayName: 'x' }, me),
        'invalid_argument',
        'user_id',
      );
    });

    it('changes the password with the current one, ending other sessions', async () => {
      const u = await signUp();
      const me = asUser(u.id);
      const change = (currentPassword: string, newPassword: string, as = me) =>
        h.call<authPb.User>('changePassword', { userId: u.id, currentPassword, newPassword }, as);
      await expectError(
        change('wrong-password', 'another-password-2'),
        'unauthenticated',
        'current_password',
      );
      await expectError(change('long-password-1', 'short'), 'invalid_argument', 'new_password');
      await expectError(change('long-password-1', 'another-password-2', adminCaller), 'permission_denied');
      const [refresh] = await grantTokens(u);
      await change('long-password-1', 'another-password-2');
      await expectError(login(u.username, 'long-password-1'), 'unauthenticated');
      expect((await login(u.username, 'another-password-2')).id).toBe(u.id);
      expect((await oauth(h, 'token', refresh!)).body.error).toBe('invalid_grant');
    });
  });

  describe('DeactivateUser', () => {
    it('refuses login, codes and refresh tokens afterwards, and publishes auth.user.deactivated', async () => {
      const u = await signUp();
      const [refresh, client] = await grantTokens(u);
      const pending = await codeFor(u, client!);
      const res = await h.call<authPb.User>('deactivateUser', { userId: u.id }, asUser(u.id));
      expect(res.active).toBe(false);
      await waitFor(() =>
        h.events.find(
          (e) => e.subject === 'auth.user.deactivated' && (e.payload as { user_id: string }).user_id === u.id,
        ),
      );
      await expectError(
        login(u.username, 'long-password-1'),
        'unauthenticated',
        undefined,
        /^invalid username or password$/,
      );
      expect((await oauth(h, 'token', refresh!)).body.error).toBe('invalid_grant');
      expect((await oauth(h, 'token', pending)).body.error).toBe('invalid_grant');
      await expectError(codeFor(u, client!), 'permission_denied');
      // Idempotent, and no second event.
      expect((await h.call<authPb.User>('deactivateUser', { userId: u.id }, adminCaller)).active).toBe(false);
      expect(
        h.events.filter(
          (e) => e.subject === 'auth.user.deactivated' && (e.payload as { user_id: string }).user_id === u.id,
        ),
      ).toHaveLength(1);
    });

    it('is for the user themself or the admin, and never for the admin account', async () => {
      const u = await signUp();
      const other = await signUp();
      await expectError(h.call('deactivateUser', { userId: other.id }, asUser(u.id)), 'permission_denied');
      await expectError(h.call('deactivateUser', { userId: admin.id }, adminCaller), 'permission_denied');
      await expectError(h.call('deactivateUser', { userId: other.id }), 'unauthenticated');
      expect((await h.call<authPb.User>('deactivateUser', { userId: other.id }, adminCaller)).active).toBe(
        false,
      );
    });

    it('stops the direct-connect flow for that user', async () => {
      const reg = await h.call<authPb.RegisteredClient>(
        'registerClient',
        {
          clientName: 'dc',
          redirectUris: [],
          scopes: [],
          grantTypes: [],
          tokenEndpointAuthMethod: '',
          firstParty: true,
        },
        adminCaller,
      );
      const issue = () =>
        h.call<authPb.TokenResponse>('issueUserToken', {
          clientId: reg.client!.clientId,
          clientSecret: reg.clientSecret!,
          username: 'dc-user',
          email: 'dc@example.com',
          createIfMissing: true,
        });
      const t = await issue();
      await h.call('deactivateUser', { userId: t.userId }, adminCaller);
      await expectError(issue(), 'permission_denied');
    });
  });

  describe('ListUsers', () => {
    it('pages through every user with a cursor, for the admin only', async () => {
      const total = Number((await h.knex('users').count<{ n: string }[]>({ n: '*' }))[0]!.n);
      const seen: string[] = [];
      let cursor = '';
      for (let page = 0; page < 100; page++) {
        const res = await h.call<authPb.ListUsersResponse>('listUsers', { limit: 4, cursor }, adminCaller);
        expect(res.users.length).toBeLessThanOrEqual(4);
        seen.push(...res.users.map((u) => u.id));
        if (!res.nextCursor) break;
        cursor = res.nextCursor;
      }
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      const someone = await signUp();
      await expectError(
        h.call('listUsers', { limit: 4, cursor: '' }, asUser(someone.id, ['memories:admin'])),
        'permission_denied',
      );
      await expectError(
        h.call('listUsers', { limit: 0, cursor: 'garbage' }, adminCaller),
        'invalid_argument',
        'cursor',
      );
      await expectError(
        h.call('listUsers', { limit: 201, cursor: '' }, adminCaller),
        'invalid_argument',
        'limit',
      );
      await expectError(
        h.call('listUsers', { limit: -1, cursor: '' }, adminCaller),
        'invalid_argument',
        'limit',
      );
    });
  });

  /** A client, a user grant through the code flow, and the refresh request that would renew it. */
  async function grantTokens(u: authPb.User): Promise<[Record<string, string>, string]> {
    const reg = await h.call<authPb.RegisteredClient>('registerDynamicClient', {
      clientName: 'c',
      redirectUris: [REDIRECT],
      scopes: [],
      grantTypes: [],
      tokenEndpointAuthMethod: 'none',
      firstParty: false,
    });
    const clientId = reg.client!.clientId;
    const tokens = await oauth(h, 'token', await codeFor(u, clientId));
    expect(tokens.status).toBe(200);
    return [
      { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: clientId },
      clientId,
    ];
  }

  async function codeFor(u: authPb.User, clientId: string): Promise<Record<string, string>> {
    const { verifier, challenge } = pkce();
    const res = await h.call<authPb.AuthorizeResponse>(
      'authorize',
      {
        userId: u.id,
        clientId,
        redirectUri: REDIRECT,
        scope: '',
        state: '',
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        resource: '',
        approved: true,
      },
      asUser(u.id),
    );
    return {
      grant_type: 'authorization_code',
      code: params(res.redirectTo).code!,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    };
  }
});
