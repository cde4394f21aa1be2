import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { approveInBrowser, Browser, hiddenFields } from './support/browser.js';
import {
  ADMIN,
  basic,
  bearer,
  callTool,
  post,
  request,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
} from './support/test-stack.js';

const adminAuth = () => ({ authorization: basic(ADMIN.username, ADMIN.password) });

async function eventually(check: () => Promise<boolean>) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('accounts and client administration over REST', () => {
  let t: TestStack;
  let client: { client_id: string; client_secret: string };
  beforeAll(async () => {
    t = await startTestStack();
    client = await registerClient(t);
  });
  afterAll(() => t?.stop());

  it('shows and updates your own profile, naming a bad field', async () => {
    const ulla = await userToken(t, client, 'ulla');
    const me = await request('GET', `${t.url}/api/users/me`, bearer(ulla.access_token));
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({
      id: ulla.user_id,
      username: 'ulla',
      email: 'ulla@example.test',
      is_admin: false,
      active: true,
    });
    const bad = await request('PATCH', `${t.url}/api/users/me`, bearer(ulla.access_token), {
      email: 'not-an-email',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe('email');
    const typo = await request('PATCH', `${t.url}/api/users/me`, bearer(ulla.access_token), {
      displayname: 'U',
    });
    expect(typo.json.field).toBe('displayname');
    const ok = await request('PATCH', `${t.url}/api/users/me`, bearer(ulla.access_token), {
      display_name: 'Ulla U.',
    });
    expect(ok.json.display_name).toBe('Ulla U.');
    expect((await request('GET', `${t.url}/api/users/me`, {})).status).toBe(401);
  });

  it('deactivating your account stops every token you hold, at once', async () => {
    const vera = await userToken(t, client, 'vera');
    const second = await userToken(t, client, 'vera');
    expect((await callTool(t, second.access_token, 'retrieve_memories', {})).status).toBe(200);
    const off = await request('POST', `${t.url}/api/users/me/deactivate`, bearer(vera.access_token));
    expect(off.status).toBe(200);
    expect(off.json.active).toBe(false);
    expect(
      await eventually(
        async () => (await callTool(t, second.access_token, 'retrieve_memories', {})).status === 401,
      ),
    ).toBe(true);
    const again = await fetch(`${t.url}/api/user-tokens/user-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: client.client_id,
        client_secret: client.client_secret,
        username: 'vera',
        email: 'vera@example.test',
      }),
    });
    expect(again.status).toBe(403);
  });

  it('lets the admin list and deactivate users, and nobody else', async () => {
    const walt = await userToken(t, client, 'walt');
    expect((await request('GET', `${t.url}/api/admin/users`, bearer(walt.access_token))).status).toBe(403);
    const list = await request('GET', `${t.url}/api/admin/users?limit=200`, adminAuth());
    expect(list.status).toBe(200);
    expect(list.json.users.map((u: { username: string }) => u.username)).toEqual(
      expect.arrayContaining(['walt', ADMIN.username]),
    );
    expect(
      (await request('POST', `${t.url}/api/admin/users/not-a-uuid/deactivate`, adminAuth())).json.field,
    ).toBe('user_id');
    const off = await request('POST', `${t.url}/api/admin/users/${walt.user_id}/deactivate`, adminAuth());
    expect(off.json).toMatchObject({ id: walt.user_id, active: false });
    expect(
      await eventually(
        async () => (await callTool(t, walt.access_token, 'retrieve_memories', {})).status === 401,
      ),
    ).toBe(true);
  });

  it('lets the admin manage clients: list, disable direct-connect, rotate the secret, delete', async () => {
    const mine = await registerClient(t);
    const creds = (secret: string) => ({
      client_id: mine.client_id,
      client_secret: secret,
      username: 'xena',
      email: 'xena@example.test',
      create_if_missing: true,
    });
    const token = (secret: string) =>
      fetch(`${t.url}/api/user-tokens/user-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(creds(secret)),
      });
    expect((await token(mine.client_secret)).status).toBe(200);

    const listed = await request('GET', `${t.url}/api/admin/clients`, adminAuth());
    expect(listed.json.clients.map((c: { client_id: string }) => c.client_id)).toContain(mine.client_id);

    const off = await request('PATCH', `${t.url}/api/admin/clients/${mine.client_id}`, adminAuth(), {
      user_token_flow_enabled: false,
    });
    expect(off.json.user_token_flow_enabled).toBe(false);
    expect((await token(mine.client_secret)).status).toBe(403);
    await request('PATCH', `${t.url}/api/admin/clients/${mine.client_id}`, adminAuth(), {
      user_token_flow_enabled: true,
    });

    const rotated = await request(
      'POST',
      `${t.url}/api/admin/clients/${mine.client_id}/rotate-secret`,
      adminAuth(),
    );
    expect(rotated.json.client_secret).not.toBe(mine.client_secret);
    expect((await token(mine.client_secret)).status).toBe(401);
    expect((await token(rotated.json.client_secret)).status).toBe(200);

    const xena = await userToken(t, client, 'yann');
    expect(
      (await request('DELETE', `${t.url}/api/admin/clients/${mine.client_id}`, bearer(xena.access_token)))
        .status,
    ).toBe(403);
    expect(
      (await request('DELETE', `${t.url}/api/admin/clients/${mine.client_id}`, adminAuth())).status,
    ).toBe(204);
    expect((await token(rotated.json.client_secret)).status).toBe(401);
    expect((await request('PATCH', `${t.url}/api/admin/clients/nope`, adminAuth(), {})).json.field).toBe(
      'client_id',
    );
  });

  it('changes the password of a user who signed up on the login page', async () => {
    const redirect = 'http://127.0.0.1:7777/cb';
    const reg = await post(`${t.url}/register`, {
      client_name: 'pw',
      redirect_uris: [redirect],
      token_endpoint_auth_method: 'none',
    });
    const clientId = reg.json.client_id as string;
    const verifier = randomBytes(32).toString('base64url');
    const authorize = `${t.url}/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirect,
      state: 'p',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    })}`;
    const back = await approveInBrowser(t, authorize, {
      username: 'penny',
      password: 'first password 1',
      signup: true,
    });
    const tokens = await fetch(`${t.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code: back.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: redirect,
      }),
    });
    const { access_token } = (await tokens.json()) as { access_token: string };

    const wrong = await request('POST', `${t.url}/api/users/me/password`, bearer(access_token), {
      current_password: 'nope',
      new_password: 'second password 2',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.field).toBe('current_password');
    const short = await request('POST', `${t.url}/api/users/me/password`, bearer(access_token), {
      current_password: 'first password 1',
      new_password: 'short',
    });
    expect(short.json.field).toBe('new_password');
    const ok = await request('POST', `${t.url}/api/users/me/password`, bearer(access_token), {
      current_password: 'first password 1',
      new_password: 'second password 2',
    });
    expect(ok.status).toBe(204);

    // The login page now takes the new password only.
    const browser = new Browser(t.url);
    const page = await browser.get(authorize);
    const old = await browser.post('/authorize/login', {
      ...hiddenFields(page.html),
      username: 'penny',
      password: 'first password 1',
    });
    expect(old.status).toBe(401);
    const fresh = await browser.post('/authorize/login', {
      ...hiddenFields(page.html),
      username: 'penny',
      password: 'second password 2',
    });
    expect(fresh.status).toBe(303);
  });
});
