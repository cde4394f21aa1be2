import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { queryDb } from '../../../e2e/support/test-stack.js';
import { Sealer } from '../src/sealing.js';
import { startHarness, WebUser, type Harness } from './support/bff-harness.js';

const TTL_SECONDS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Access tokens that expire: refreshed ahead of time or on a 401, once for concurrent requests. */
describe('BFF: token refresh', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ extraEnv: { ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) } });
  }, 180_000);
  afterAll(() => h?.stop());

  const signup = async (name: string) => {
    const u = new WebUser(h.bff.url);
    const res = await u.signup(name);
    const user = res.body.user as { id: string; picard_user_id: string };
    const grant = async () =>
      (await h.bff.knex('picard_tokens').where({ user_id: user.id }).first()) as Record<string, unknown>;
    return { u, user, grant };
  };

  /**
   * The refresh-token family at Picard: tokens issued, and those still usable (a rotation spends the
   * old one; a replay would revoke them all, leaving none).
   */
  const family = async (picardUserId: string) => {
    const [row] = await queryDb(
      h.t,
      'auth',
      (s) =>
        `SELECT count(*)::int AS issued, (count(*) FILTER (WHERE revoked_at IS NULL))::int AS live FROM ${s}.refresh_tokens WHERE user_id = $1`,
      [picardUserId],
    );
    return row as { issued: number; live: number };
  };

  /**
   * Inside the refresh margin (half the token's life) yet still valid at Picard: rather than wait,
   * the BFF's record of the grant is moved back as if it had been issued 5.3 s ago. Returns the row
   * as it was.
   */
  const intoRefreshMargin = async (userId: string, grant: () => Promise<Record<string, unknown>>) => {
    const before = await grant();
    const back = (TTL_SECONDS / 2) * 1000 + 300;
    await h.bff
      .knex('picard_tokens')
      .where({ user_id: userId })
      .update({
        expires_at: new Date(new Date(before.expires_at as string).getTime() - back),
        updated_at: new Date(new Date(before.updated_at as string).getTime() - back),
      });
    return before;
  };

  const burst = (u: WebUser, n = 10) =>
    Promise.all(Array.from({ length: n }, (_, i) => u.tool('get_memories', { limit: i + 1 })));

  it('refreshes shortly before expiry, once for many concurrent requests', async () => {
    const { u, user, grant } = await signup('rita');
    const before = await intoRefreshMargin(user.id, grant);
    const refreshes = h.bff.vault.refreshes;
    const answers = await burst(u);
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(h.bff.vault.refreshes - refreshes).toBe(1);
    const after = await grant();
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    // One rotation, and the family intact: a second use of the old refresh token would have revoked it.
    expect(await family(user.picard_user_id)).toEqual({ issued: 2, live: 1 });
    expect((await u.tool('list_groups', {})).status).toBe(200);
  });

  it('two instances of the web app on one database refresh a sign-in once between them', async () => {
    const { u, user, grant } = await signup('quinn');
    const second = await h.startAnother();
    // The same browser session, served by the second instance (sessions live in the database).
    const v = new WebUser(second.url);
    const cookies = u.seen.flatMap((r) => (r.headers['set-cookie'] as unknown as string[] | undefined) ?? []);
    v.agent.jar.setCookies(cookies, new URL(second.url).hostname, '/');
    v.csrf = u.csrf;
    expect((await v.tool('list_groups', {})).status).toBe(200);

    await intoRefreshMargin(user.id, grant);
    const counted = () => h.bff.vault.refreshes + second.vault.refreshes;
    const refreshes = counted();
    const answers = (await Promise.all([burst(u, 6), burst(v, 6), burst(u, 4), burst(v, 4)])).flat();
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(counted() - refreshes).toBe(1);
    // One rotation: a second instance spending the same refresh token would have revoked the family.
    expect(await family(user.picard_user_id)).toEqual({ issued: 2, live: 1 });
    expect(await grant()).toMatchObject({ refresh_claimed_at: null });
    expect((await u.tool('list_groups', {})).status).toBe(200);
    expect((await v.tool('list_groups', {})).status).toBe(200);
  });

  it("a claim whose instance died lapses: the next request refreshes (the lease's age is the database's)", async () => {
    const { u, user, grant } = await signup('uma');
    const before = await grant();
    await h.bff
      .knex('picard_tokens')
      .where({ user_id: user.id })
      .update({
        // Issued 9 s ago, 1 s left: inside the refresh margin.
        updated_at: new Date(Date.now() - 9000),
        expires_at: new Date(Date.now() + 1000),
        refresh_claimed_at: h.bff.knex.raw("now() - interval '41 seconds'"),
      });
    const refreshes = h.bff.vault.refreshes;
    expect((await u.tool('list_groups', {})).status).toBe(200);
    expect(h.bff.vault.refreshes - refreshes).toBe(1);
    const after = await grant();
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_claimed_at).toBeNull();
  });

  it('refreshes once when Picard refuses an expired token (401), then retries', async () => {
    const { u, user } = await signup('sam');
    // The BFF believes the token is good for an hour; Picard knows better.
    await h.bff
      .knex('picard_tokens')
      .where({ user_id: user.id })
      .update({ expires_at: new Date(Date.now() + 3600_000) });
    await sleep(TTL_SECONDS * 1000 + 500);
    const refreshes = h.bff.vault.refreshes;
    const answers = await burst(u);
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(h.bff.vault.refreshes - refreshes).toBe(1);
    expect(await family(user.picard_user_id)).toEqual({ issued: 2, live: 1 });
  });

  it('ends the session when the refresh token is dead: 401 session_expired, session gone', async () => {
    const { u, user, grant } = await signup('tess');
    const row = await grant();
    const refresh = Sealer.fromBase64(h.bff.config.CLIENT_TOKEN_KEY!).open(
      row.refresh_token as string,
      user.id,
    );
    const creds = (await h.bff.registration.credentials())!;
    const revoked = await fetch(`${h.t.url}/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: refresh, token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    await h.bff.knex('picard_tokens').where({ user_id: user.id }).update({ expires_at: new Date() });
    const res = await u.tool('get_memories', {});
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'session_expired',
      message: 'Your Picard session has ended; please sign in again.',
    });
    expect(await h.bff.knex('picard_tokens').where({ user_id: user.id }).first()).toBeUndefined();
    const session = await u.get('/bff/session');
    expect(session.body.authenticated).toBe(false);
    expect((await u.tool('get_memories', {})).body.error).toBe('unauthenticated');
  });
});
