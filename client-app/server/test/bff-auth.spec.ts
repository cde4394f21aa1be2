import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ADMIN, post } from '../../../e2e/support/test-stack.js';
import { cookiesOf, startHarness, WebUser, type Harness } from './support/bff-harness.js';

/** Direct-connect accounts, sessions, CSRF, the tool proxy and what never leaves the server. */
describe('BFF: accounts, sessions, CSRF, tools', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { CLIENT_LOGIN_MAX_FAILURES: 3 } });
  }, 180_000);
  afterAll(() => h?.stop());

  it('starts anonymous, offers Picard sign-in, and issues the XSRF cookie', async () => {
    const res = await request(h.bff.url).get('/bff/session');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ authenticated: false, picard_sign_in_available: true });
    const raw = (res.headers['set-cookie'] as unknown as string[]).join('\n');
    expect(raw).toMatch(/XSRF-TOKEN=[^;]+; Path=\/; SameSite=Lax/);
    expect(raw).not.toMatch(/XSRF-TOKEN=[^\n]*HttpOnly/);
    expect(raw).toMatch(/picard_web\.sid=[^;]+;[^\n]*HttpOnly/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('signs up, sets a strict session cookie, and answers the session', async () => {
    const u = new WebUser(h.bff.url);
    const before = await u.session();
    const anonymousSid = cookiesOf(before).get('picard_web.sid');
    const res = await u.signup('alice');
    expect(res.body).toMatchObject({
      authenticated: true,
      user: { username: 'alice', email: 'alice@example.test', sign_in: 'password' },
      scopes: ['memories:read', 'memories:write'],
      can_write: true,
      is_admin: false,
    });
    expect(res.body.user.picard_user_id).toMatch(/^[0-9a-f-]{36}$/);
    const line = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('picard_web.sid='),
    )!;
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Lax/);
    expect(line).not.toMatch(/Secure/); // http here; https public URLs get Secure
    expect(cookiesOf(res).get('picard_web.sid')).not.toBe(anonymousSid); // a new id at sign-in
    expect((await u.get('/bff/session')).body.authenticated).toBe(true);
    expect((await u.get('/bff/account')).body).toMatchObject({ username: 'alice', sign_in: 'password' });
  });

  it('refuses bad sign-up fields by name, and a taken username with 409', async () => {
    const u = new WebUser(h.bff.url);
    const bad = async (body: object, field: string) => {
      const res = await u.post('/bff/auth/signup', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_argument', field });
      expect(res.body.message).toContain(field);
    };
    await bad({ username: 'x', email: 'x@example.test', password: 'a long password' }, 'username');
    await bad({ username: 'bad name!', email: 'x@example.test', password: 'a long password' }, 'username');
    await bad({ username: 'xavier', email: 'not-an-email', password: 'a long password' }, 'email');
    await bad({ username: 'xavier', email: 'x@example.test', password: 'short' }, 'password');
    await bad(
      { username: 'xavier', email: 'x@example.test', password: 'a long password', admin: true },
      'admin',
    );
    await u.signup('bob');
    const taken = await new WebUser(h.bff.url).post('/bff/auth/signup', {
      username: 'BOB',
      email: 'other@example.test',
      password: 'a long password',
    });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ error: 'conflict', field: 'username' });
  });

  it('logs in and out; a wrong password is 401; logout revokes the refresh token at Picard', async () => {
    await new WebUser(h.bff.url).signup('carol', 'carol password');
    const u = new WebUser(h.bff.url);
    const wrong = await u.post('/bff/auth/login', { username: 'carol', password: 'nope nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({
      error: 'invalid_credentials',
      message: 'The username or password is wrong.',
    });
    const missing = await u.post('/bff/auth/login', { username: 'carol' });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('password');

    const ok = await u.post('/bff/auth/login', { username: 'Carol', password: 'carol password' });
    expect(ok.status).toBe(200);
    expect(ok.body.user.username).toBe('carol');
    const grantId = (
      await h.bff
        .knex('picard_tokens')
        .where({ user_id: ok.body.user.id })
        .orderBy('created_at', 'desc')
        .first()
    ).id;
    const row = await h.bff.knex('picard_tokens').where({ id: grantId }).first();
    const refresh = h.bff.vault && (await readRefresh(h, grantId, ok.body.user.id));
    expect(row.refresh_token).not.toBe(refresh);

    const out = await u.post('/bff/auth/logout');
    expect(out.status).toBe(204);
    expect((await u.get('/bff/session')).body.authenticated).toBe(false);
    expect(await h.bff.knex('picard_tokens').where({ id: grantId }).first()).toBeUndefined();
    // The revoked refresh token is refused at Picard's /token.
    const client = await h.bff.registration.credentials();
    const res = await fetch(`${h.t.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client!.clientId}:${client!.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
    // Signed out, the API says so.
    const after = await u.tool('get_memories', {});
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('unauthenticated');
  });

  it('refuses state-changing calls without the CSRF header or with a wrong one', async () => {
    const u = new WebUser(h.bff.url);
    await u.session();
    const none = await u.agent
      .post('/bff/auth/login')
      .send({ username: 'carol', password: 'carol password' });
    expect(none.status).toBe(403);
    expect(none.body.error).toBe('csrf_failed');
    const wrong = await u.agent
      .post('/bff/auth/login')
      .set('X-XSRF-TOKEN', 'x'.repeat(u.csrf.length))
      .send({ username: 'carol', password: 'carol password' });
    expect(wrong.status).toBe(403);
    // Another session's token does not fit this one.
    const other = new WebUser(h.bff.url);
    await other.session();
    const crossed = await u.agent
      .post('/bff/auth/login')
      .set('X-XSRF-TOKEN', other.csrf)
      .send({ username: 'carol', password: 'carol password' });
    expect(crossed.status).toBe(403);
    const right = await u.post('/bff/auth/login', { username: 'carol', password: 'carol password' });
    expect(right.status).toBe(200);
    // After login the session (and its CSRF token) is new: the old header is refused.
    const stale = await u.agent.post('/bff/tools/list_groups').set('X-XSRF-TOKEN', other.csrf).send({});
    expect(stale.status).toBe(403);
  });

  it('forwards tools, passes Picard field errors on, and refuses unknown tools', async () => {
    const u = new WebUser(h.bff.url);
    await u.signup('dave');
    const made = await u.tool('submit_memory', {
      text: 'Dave likes trains',
      permission: 'private',
      tags: ['rail'],
    });
    expect(made.status).toBe(200);
    expect(made.body.result).toMatchObject({
      text: 'Dave likes trains',
      permission: 'private',
      tags: ['rail'],
    });
    const list = await u.tool('get_memories', { tags: ['rail'] });
    expect(list.status).toBe(200);
    expect(list.body.result.memories.map((m: { text: string }) => m.text)).toEqual(['Dave likes trains']);
    const bad = await u.tool('submit_memory', { text: 'x', permission: 'everyone' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_argument', field: 'data.permission' });
    const notForwarded = await u.tool('export_memories', { format: 'json' });
    expect(notForwarded.status).toBe(404);
    expect(notForwarded.body.error).toBe('unknown_tool');
    const notAnObject = await u.post('/bff/tools/get_memories', [1, 2]);
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.body.field).toBe('body');
  });

  it('keeps every token out of responses and stores them sealed', async () => {
    const u = new WebUser(h.bff.url);
    const signup = await u.signup('erin');
    await u.tool('submit_memory', { text: 'Erin was here', permission: 'public' });
    await u.get('/bff/account');
    await u.get('/bff/session');
    const userId = signup.body.user.id as string;
    const row = await h.bff.knex('picard_tokens').where({ user_id: userId }).first();
    const access = await h.bff.vault.accessToken({ id: row.id, userId });
    const refresh = await readRefresh(h, row.id, userId);
    expect(access.split('.')).toHaveLength(3); // a JWT
    for (const res of u.seen) {
      const everything = JSON.stringify(res.headers) + res.text;
      expect(everything).not.toContain(access);
      expect(everything).not.toContain(refresh);
      expect(everything).not.toContain(access.split('.')[1]!); // not even the JWT's payload
    }
    // At rest: AES-256-GCM, not the tokens, and bound to the user (AAD).
    expect(row.access_token).not.toContain(access.slice(0, 20));
    expect(row.refresh_token).not.toContain(refresh);
    expect(row.access_token.split('.')).toHaveLength(3);
    const copied = { userId: (await h.bff.knex('users').whereNot({ id: userId }).first()).id as string };
    const stolenId = crypto.randomUUID();
    await h.bff.knex('picard_tokens').insert({ ...row, id: stolenId, user_id: copied.userId });
    await expect(h.bff.vault.accessToken({ id: stolenId, userId: copied.userId })).rejects.toThrow();
    const client = await h.bff.knex('picard_client').first();
    const creds = await h.bff.registration.credentials();
    expect(client.client_secret).not.toContain(creds!.clientSecret);
  });

  it('sends a strict Content-Security-Policy and a 503 page while the SPA is not built', async () => {
    const res = await request(h.bff.url).get('/memories');
    expect(res.status).toBe(503);
    expect(res.text).toContain('npm run build -w client-app');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/style-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`form-action 'self' ${new URL(h.t.publicUrl).origin}`);
    const api = await request(h.bff.url).get('/bff/nothing-here');
    expect(api.status).toBe(404);
    expect(api.body.error).toBe('not_found');
  });

  it('throttles repeated wrong passwords with 429 and Retry-After', async () => {
    await new WebUser(h.bff.url).signup('frank', 'frank password');
    const u = new WebUser(h.bff.url);
    for (let i = 0; i < 3; i++) {
      expect(
        (await u.post('/bff/auth/login', { username: 'frank', password: 'wrong password' })).status,
      ).toBe(401);
    }
    const limited = await u.post('/bff/auth/login', { username: 'frank', password: 'wrong password' });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits now.
    const right = await u.post('/bff/auth/login', { username: 'frank', password: 'frank password' });
    expect(right.status).toBe(429);
  });

  it('registers with Picard once (idempotent), again only when forced', async () => {
    const admin = { username: ADMIN.username, password: ADMIN.password };
    const before = (await h.bff.registration.credentials())!;
    expect(await h.bff.registration.ensure(admin)).toEqual({ clientId: before.clientId, created: false });
    const forced = await h.bff.registration.ensure(admin, true);
    expect(forced.created).toBe(true);
    expect(forced.clientId).not.toBe(before.clientId);
    expect((await h.bff.knex('picard_client')).length).toBe(1);
    // The new registration is used at once: a sign-up mints tokens with it.
    const u = new WebUser(h.bff.url);
    await u.signup('gina');
    expect((await u.tool('list_groups', {})).status).toBe(200);
    await expect(
      h.bff.registration.ensure({ username: ADMIN.username, password: 'wrong' }, true),
    ).rejects.toThrow(/Picard refused the registration \(401\)/);
  });

  it('answers bad JSON and oversized bodies with clear errors', async () => {
    const u = new WebUser(h.bff.url);
    await u.session();
    const broken = await u.agent
      .post('/bff/auth/login')
      .set('X-XSRF-TOKEN', u.csrf)
      .set('content-type', 'application/json')
      .send('{"username": ');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ error: 'invalid_argument', field: 'body' });
    const big = await u.post('/bff/auth/login', { username: 'x', password: 'y'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(big.body.message).toContain('64kb');
    // The gateway itself is reachable the same way as before (sanity for the scan above).
    expect((await post(`${h.t.url}/api/tools`, {})).status).toBe(401);
  });
});

/** Reads a stored refresh token (tests only): the vault never hands it out. */
async function readRefresh(h: Harness, grantId: string, userId: string): Promise<string> {
  const row = await h.bff.knex('picard_tokens').where({ id: grantId }).first();
  const { Sealer } = await import('../src/sealing.js');
  return Sealer.fromBase64(h.bff.config.CLIENT_TOKEN_KEY!).open(row.refresh_token, userId);
}
