import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN } from '../../../e2e/support/test-stack.js';
import { loginErrorOf, startHarness, throughPicard, WebUser, type Harness } from './support/bff-harness.js';

/** "Sign in with Picard": authorization code + PKCE through the gateway's own pages, and its checks. */
describe('BFF: Sign in with Picard', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ realPublicUrl: true });
  }, 180_000);
  afterAll(() => h?.stop());

  const paula = { username: 'paula', password: 'paula password' };

  it('signs in end to end: PKCE S256, state, consent, callback, local account linked', async () => {
    const web = new WebUser(h.bff.url);
    const { authorizationUrl, callback } = await throughPicard(h, web, { ...paula, signup: true });
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${h.t.publicUrl}/authorize`);
    const q = authorizationUrl.searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toBeTruthy();
    expect(q.get('redirect_uri')).toBe('http://localhost:8000/bff/auth/picard/callback');
    expect(q.get('scope')).toBe('memories:read memories:write');
    expect(callback.searchParams.get('iss')).toBe(h.t.publicUrl);

    const done = await web.get(callback.pathname + callback.search);
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe('/');
    const session = await web.get('/bff/session');
    expect(session.body).toMatchObject({
      authenticated: true,
      user: { username: 'paula', email: 'paula@example.test', sign_in: 'picard' },
      scopes: ['memories:read', 'memories:write'],
      can_write: true,
      is_admin: false,
    });
    const made = await web.tool('submit_memory', {
      text: 'Paula signed in with Picard',
      permission: 'private',
    });
    expect(made.status).toBe(200);
    expect(made.body.result.user_id).toBe(session.body.user.picard_user_id);
    for (const res of web.seen) expect(JSON.stringify(res.headers) + res.text).not.toMatch(/eyJ[\w-]+\.eyJ/);

    // Signing in again links the same local account; a password login is not possible for it.
    const again = new WebUser(h.bff.url);
    const second = await throughPicard(h, again, paula);
    expect((await again.get(second.callback.pathname + second.callback.search)).headers.location).toBe('/');
    expect((await again.get('/bff/session')).body.user.id).toBe(session.body.user.id);
    const password = await new WebUser(h.bff.url).post('/bff/auth/login', paula);
    expect(password.status).toBe(401);
  });

  it('with a read-only grant, refuses writes locally (403) and still reads', async () => {
    const web = new WebUser(h.bff.url);
    const { authorizationUrl, callback } = await throughPicard(h, web, paula, { access: 'read' });
    expect(authorizationUrl.searchParams.get('scope')).toBe('memories:read');
    await web.get(callback.pathname + callback.search);
    const session = await web.get('/bff/session');
    expect(session.body).toMatchObject({ scopes: ['memories:read'], can_write: false, is_admin: false });
    const write = await web.tool('submit_memory', { text: 'nope', permission: 'private' });
    expect(write.status).toBe(403);
    expect(write.body.error).toBe('permission_denied');
    const upload = await web.post('/bff/imports', { format: 'json', data: '[]' });
    expect(upload.status).toBe(403);
    const read = await web.tool('get_memories', {});
    expect(read.status).toBe(200);
    expect(read.body.result.memories.length).toBeGreaterThan(0);
  });

  it('serves the admin views to an admin grant only', async () => {
    const user = new WebUser(h.bff.url);
    await user.signup('norma');
    for (const path of ['/bff/admin/summary', '/bff/admin/users', '/bff/admin/clients']) {
      const res = await user.get(path);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('permission_denied');
    }
    expect((await new WebUser(h.bff.url).get('/bff/admin/summary')).status).toBe(401);

    const admin = new WebUser(h.bff.url);
    const { callback } = await throughPicard(h, admin, ADMIN, { access: 'admin' });
    await admin.get(callback.pathname + callback.search);
    const session = await admin.get('/bff/session');
    expect(session.body).toMatchObject({ is_admin: true, can_write: true });
    const summary = await admin.get('/bff/admin/summary');
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ users: expect.any(Number), memories: expect.any(Number) });
    const users = await admin.get('/bff/admin/users?limit=2');
    expect(users.status).toBe(200);
    expect(users.body.users).toHaveLength(2);
    expect(users.body.next_cursor).toBeTruthy();
    const bad = await admin.get('/bff/admin/users?limit=zero');
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('limit');
    const clients = await admin.get('/bff/admin/clients');
    expect(clients.body.clients.map((c: { client_name: string }) => c.client_name)).toContain('Picard web');
    expect(JSON.stringify(clients.body)).not.toContain('"client_secret"');
  });

  it('refuses a tampered state, a missing code, a wrong issuer, a denial and a callback nobody started', async () => {
    const tamper = async (change: (u: URL) => void) => {
      const web = new WebUser(h.bff.url);
      const { callback } = await throughPicard(h, web, paula);
      change(callback);
      const res = await web.get(callback.pathname + callback.search);
      expect(res.status).toBe(302);
      expect((await web.get('/bff/session')).body.authenticated).toBe(false);
      // The pending sign-in is spent: replaying the genuine callback is refused too.
      return loginErrorOf(res);
    };
    const state = await tamper((u) => u.searchParams.set('state', 'forged-state'));
    expect(state.error).toBe('invalid_callback');
    expect(state.message).toMatch(/state/i);
    const code = await tamper((u) => u.searchParams.delete('code'));
    expect(code.error).toBe('invalid_callback');
    expect(code.message).toMatch(/code/i);
    const iss = await tamper((u) => u.searchParams.set('iss', 'https://evil.example'));
    expect(iss.error).toBe('invalid_callback');
    expect(iss.message).toMatch(/iss/i);

    const web = new WebUser(h.bff.url);
    const denied = await throughPicard(h, web, paula, { decision: 'deny' });
    const res = await web.get(denied.callback.pathname + denied.callback.search);
    expect(loginErrorOf(res).error).toBe('access_denied');

    const stranger = new WebUser(h.bff.url);
    const unsolicited = await stranger.get('/bff/auth/picard/callback?code=abc&state=xyz');
    expect(loginErrorOf(unsolicited).error).toBe('invalid_state');
    const badAccess = await stranger.get('/bff/auth/picard/start?access=root');
    expect(loginErrorOf(badAccess).error).toBe('invalid_argument');
  });
});
