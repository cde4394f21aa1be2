import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startWebStack, type WebStack, type WebUser } from './support/web-stack.js';
import { createMemory, eventually, listedTexts, waitForPath } from './support/ui.js';

/** Access tokens this short-lived expire between two clicks; the BFF must refresh them unseen. */
const ACCESS_TTL_SECONDS = 4;

/**
 * "Sign in with Picard" in chromium: the web app sends the browser to the gateway's own sign-up,
 * login and consent pages (OAuth 2.1 code + PKCE through the BFF) and it comes back signed in; a
 * read-only grant hides every write action and the BFF refuses a forced one; access tokens that
 * expire are refreshed without the person noticing.
 */
describe('the web app in a browser: Sign in with Picard, read-only grants, token refresh', () => {
  let w: WebStack;
  let writer: WebUser;
  let reader: WebUser;
  const USER = { username: 'pat', email: 'pat@example.test', password: 'pats picard password' };
  const FIRST = 'Pat wrote this through a Picard sign-in: the library closes at eight on Fridays.';

  beforeAll(async () => {
    w = await startWebStack({ extraEnv: { ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TTL_SECONDS) } });
    writer = await w.newUser();
    reader = await w.newUser();
  }, 120_000);

  afterAll(async () => {
    await w?.stop();
  }, 60_000);

  /** The gateway's consent page: checks what is asked, then allows it. */
  async function consent(u: WebUser, scopes: string[]) {
    const { page } = u;
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    expect(new URL(page.url()).origin).toBe(w.t.publicUrl);
    await page.getByText('Picard web').first().waitFor();
    const asked = await page.locator('li code').allInnerTexts();
    expect(asked.sort()).toEqual([...scopes].sort());
    await page.getByRole('button', { name: 'Allow' }).click();
  }

  it('signs up at Picard through its own pages, consents, and lands signed in to the web app', async () => {
    const { page } = writer;
    await page.goto('/login');
    await page.getByRole('link', { name: 'Sign in with Picard' }).click();
    // Picard's page, on Picard's origin.
    await page.getByRole('heading', { name: 'Sign in to Picard' }).waitFor();
    expect(new URL(page.url()).origin).toBe(w.t.publicUrl);
    expect(new URL(page.url()).pathname).toBe('/authorize');
    const q = new URL(page.url()).searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('state')).toBeTruthy();
    expect(q.get('redirect_uri')).toBe(`${w.url}/bff/auth/picard/callback`);

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your Picard account' }).waitFor();
    await page.getByLabel('Username').fill(USER.username);
    await page.getByLabel('Email').fill(USER.email);
    await page.getByLabel('Password').fill(USER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await consent(writer, ['memories:read', 'memories:write']);

    // Back in the web app, signed in.
    await waitForPath(page, /^\/memories$/);
    expect(new URL(page.url()).origin).toBe(w.url);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByText(USER.username, { exact: true }).waitFor();
    await expect(nav.getByText('Read-only').count()).resolves.toBe(0);
    await page.getByRole('link', { name: 'New memory' }).waitFor();
    await page.goto('/account');
    await page.getByText('Picard (OAuth)').waitFor();
    await page.getByText('Read and write').waitFor();

    // It can write.
    await createMemory(writer, { text: FIRST, permission: 'private' });
  }, 120_000);

  it('a read-only grant hides every write action, and the BFF refuses a forced write', async () => {
    const { page } = reader;
    await page.goto('/login');
    await page.getByRole('checkbox', { name: /Read-only access/ }).check();
    // The link is re-rendered after the change is detected, not in the same turn as the click: wait
    // for it (a loaded CI machine once read the old href).
    const readOnlyLink = page.locator('a[href="/bff/auth/picard/start?access=read"]', {
      hasText: 'Sign in with Picard',
    });
    await readOnlyLink.waitFor({ timeout: 10_000 });
    await readOnlyLink.click();
    await page.getByRole('heading', { name: 'Sign in to Picard' }).waitFor();
    await page.getByLabel('Username').fill(USER.username);
    await page.getByLabel('Password').fill(USER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await consent(reader, ['memories:read']);
    await waitForPath(page, /^\/memories$/);

    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByText('Read-only').waitFor();
    // Pat's own memory is listed, with nothing to change it.
    expect(await listedTexts(page)).toEqual([FIRST]);
    for (const name of ['New memory', 'Write your first memory', 'Edit']) {
      await expect(page.getByRole('link', { name }).count()).resolves.toBe(0);
    }
    for (const name of ['Delete', 'Delete selected']) {
      await expect(page.getByRole('button', { name }).count()).resolves.toBe(0);
    }
    await expect(page.getByRole('checkbox', { name: 'Select this memory' }).count()).resolves.toBe(0);
    // The memory's own page: no edit, no delete.
    await page.getByRole('link', { name: 'Open' }).click();
    await waitForPath(page, /^\/memories\/[0-9a-f-]{36}$/);
    await page.getByText(FIRST).waitFor();
    await expect(page.getByRole('link', { name: 'Edit' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Delete' }).count()).resolves.toBe(0);
    // Typed by hand, the editor says why it offers nothing.
    await page.goto('/memories/new');
    await page.getByText('Picard granted this app read access only').waitFor();
    await expect(page.getByRole('button', { name: 'Save memory' }).count()).resolves.toBe(0);
    await page.goto('/transfer');
    await page.getByText('Importing needs write access').waitFor();
    await expect(page.getByRole('button', { name: 'Import' }).count()).resolves.toBe(0);
    await page.goto('/personas');
    await page.getByLabel('Display name').waitFor();
    await expect(page.getByRole('button', { name: 'Save persona' }).count()).resolves.toBe(0);
    await page.goto('/account');
    await page.getByText('Read-only', { exact: true }).first().waitFor();

    // Forcing it from the page, with the CSRF header the app would send: refused.
    const forced = await reader.api('POST', '/bff/tools/submit_memory', {
      text: 'forced write',
      permission: 'private',
    });
    expect(forced.status).toBe(403);
    expect(forced.json).toMatchObject({
      error: expect.any(String),
      message: expect.stringMatching(/read-only/),
    });
    const [id] = await page.evaluate(() => [location.pathname]);
    expect(id).toBe('/account');
    const del = await reader.api('POST', '/bff/tools/delete_memories', {
      ids: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(del.status).toBe(403);
    const imported = await reader.api('POST', '/bff/imports', { format: 'json', data: '[{"text":"x"}]' });
    expect(imported.status).toBe(403);
    // Nothing was written.
    await page.goto('/memories');
    expect(await listedTexts(page)).toEqual([FIRST]);
    // The same write with a full grant (the other browser) goes through: the refusal is the scope's.
    const allowed = await writer.api('POST', '/bff/tools/submit_memory', {
      text: 'a second note',
      permission: 'private',
    });
    expect(allowed.status).toBe(200);
  }, 120_000);

  it('refreshes an expired access token without the person noticing', async () => {
    const { page } = writer;
    const [user] = await w.bff.knex('users').where({ username: USER.username }).select('id');
    const before = (await w.picardTokens()).filter((t) => t.userId === user.id);
    expect(before).toHaveLength(2); // the writer's grant and the reader's
    const [row] = await w.bff
      .knex('picard_tokens')
      .where({ user_id: user.id })
      .orderBy('expires_at', 'desc')
      .select('expires_at');
    // Wait until every access token the BFF holds for pat has expired.
    const wait = new Date(row.expires_at).getTime() - Date.now() + 1500;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const t of before) {
      const res = await fetch(`${w.t.url}/api/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.access}` },
        body: JSON.stringify({ tool: 'get_memories', data: {} }),
      });
      expect(res.status).toBe(401); // expired for real
    }

    const refreshesBefore = w.bff.vault.refreshes;
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/bff/')) statuses.push(r.status());
    });
    // Acting now: a page that makes several calls at once, then a write, then the list.
    await page.goto('/memories');
    const SECOND = 'Written after the access token had expired: the app did not ask me to sign in again.';
    await createMemory(writer, { text: SECOND, permission: 'private' });
    await page.goto('/memories');
    await eventually(
      async () => expect(await listedTexts(page)).toContain(SECOND),
      10_000,
      'the new memory in the list',
    );
    expect(new URL(page.url()).pathname).toBe('/memories');
    await expect(page.getByRole('heading', { name: 'Sign in to Picard' }).count()).resolves.toBe(0);
    await expect(page.getByText('please sign in again').count()).resolves.toBe(0);
    expect(statuses.filter((s) => s === 401)).toEqual([]);

    expect(w.bff.vault.refreshes).toBeGreaterThan(refreshesBefore);
    const after = (await w.picardTokens()).filter((t) => t.userId === user.id);
    expect(after).toHaveLength(2);
    const writerNow = after.find((t) => !before.some((b) => b.refresh === t.refresh));
    expect(writerNow).toBeDefined(); // rotated
    // The read-only browser, idle all along, still works too.
    await reader.page.goto('/memories');
    await eventually(
      async () => expect(await listedTexts(reader.page)).toContain(SECOND),
      10_000,
      'the reader sees it',
    );
    expect(new URL(reader.page.url()).pathname).toBe('/memories');
  }, 120_000);
});
