import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JWT_PATTERN, startWebStack, type WebStack, type WebUser } from './support/web-stack.js';
import {
  createMemory,
  eventually,
  fillEditor,
  listedTexts,
  logIn,
  signUp,
  waitForPath,
} from './support/ui.js';

/**
 * One person's day with the web app, in chromium against the real BFF and the real Picard stack:
 * sign up, write private, public and shared memories, search by meaning, edit and share, a second
 * person sees what was shared while a third does not, the owner restores an earlier version from the
 * memory's history (which nobody else is shown), a persona answers with citations, a file is
 * imported with its progress shown, the memories are exported, and the person logs out. Along the
 * way: memory text that tries to run script stays inert, and no token reaches any browser.
 */
describe('the web app in a browser: a user journey', () => {
  let w: WebStack;
  let alice: WebUser;
  let bob: WebUser;
  let carol: WebUser;
  const ids: Record<string, string> = {};

  const TEXT = {
    private: 'I keep the spare house key under the blue flowerpot by the back door.',
    public: 'The best pastel de nata in Lisbon is at a small bakery in Belém, near the tram stop.',
    shared: 'Bob and I agreed to split the cost of the new espresso machine for the office.',
    draft: 'Draft: the team offsite, place to be decided.',
    edited: 'The team offsite will be a hiking weekend in the Alps in March.',
  };
  const XSS = [
    'Careful with these:',
    '',
    '<img src=x onerror=alert(1)>',
    '',
    '<script>alert(2)</script>',
    '',
    '[click](javascript:alert(3))',
  ].join('\n');

  beforeAll(async () => {
    w = await startWebStack();
    alice = await w.newUser();
    bob = await w.newUser();
    carol = await w.newUser();
  }, 120_000);

  afterAll(async () => {
    await w?.stop();
  }, 60_000);

  it('signs three people up through the sign-up page', async () => {
    await signUp(alice, 'alice');
    await signUp(bob, 'bob');
    await signUp(carol, 'carol');
    // A fresh account has nothing yet, and says so.
    await alice.page.getByRole('heading', { name: 'No memories here yet' }).waitFor();
  }, 120_000);

  it('creates a private, a public and a shared memory in the editor (with a live preview)', async () => {
    ids.private = await createMemory(alice, { text: TEXT.private, permission: 'private', tags: ['home'] });
    ids.public = await createMemory(alice, {
      text: TEXT.public,
      permission: 'public',
      tags: ['travel', 'food'],
    });
    ids.shared = await createMemory(alice, { text: TEXT.shared, permission: 'shared', shareWith: ['bob'] });
    ids.draft = await createMemory(alice, { text: TEXT.draft, permission: 'private' });

    // The detail page shows what was saved.
    const { page } = alice;
    await page.getByText(TEXT.draft).waitFor();
    await page.goto(`/memories/${ids.shared}`);
    await page.getByText(TEXT.shared).waitFor();
    await page.getByText('bob', { exact: true }).waitFor();

    // The editor's preview renders Markdown as it is typed.
    await page.goto('/memories/new');
    await page.getByLabel('Memory (Markdown)').fill('Some **bold** words');
    await page.getByRole('region', { name: 'Preview' }).locator('strong', { hasText: 'bold' }).waitFor();

    await page.goto('/memories');
    const texts = await listedTexts(page);
    expect(texts).toEqual(expect.arrayContaining([TEXT.private, TEXT.public, TEXT.shared, TEXT.draft]));
    expect(texts).toHaveLength(4);
  }, 120_000);

  it('finds memories by meaning, with the similarity shown', async () => {
    const { page } = alice;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Search' }).click();
    await waitForPath(page, /^\/search$/);
    // No word in common with the memory but "key"... and not even that: meaning, not keywords.
    await page.getByLabel('What are you looking for?').fill('where did I hide the extra door key');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const results = page.locator('section.results ol > li');
    await results.first().waitFor();
    await expect(results.first().locator('.markdown').innerText()).resolves.toBe(TEXT.private);
    const similarity = Number(
      await results.first().getByRole('meter', { name: 'Similarity' }).getAttribute('aria-valuenow'),
    );
    expect(similarity).toBeGreaterThan(0);
    expect(similarity).toBeLessThanOrEqual(100);
    await results
      .first()
      .getByText(/\d+% similar/)
      .waitFor();
  }, 120_000);

  it('edits a memory: new text, and shared with a second user by username', async () => {
    const { page } = alice;
    await page.goto('/memories');
    const card = page.getByRole('listitem').filter({ hasText: TEXT.draft });
    await card.getByRole('link', { name: 'Edit' }).click();
    await waitForPath(page, new RegExp(`^/memories/${ids.draft}/edit$`));
    await page.getByRole('heading', { name: 'Edit memory' }).waitFor();
    await expect(page.getByLabel('Memory (Markdown)').inputValue()).resolves.toBe(TEXT.draft);
    await fillEditor(page, { text: TEXT.edited, permission: 'shared', shareWith: ['bob'] });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await waitForPath(page, new RegExp(`^/memories/${ids.draft}$`));
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    // The card, not the history below it: the version before the sharing change has this text too.
    await page.locator('app-memory-card').getByText(TEXT.edited).waitFor();

    // The search index follows the edit.
    await page.goto('/search');
    await page.getByLabel('What are you looking for?').fill('a mountain walking trip with colleagues');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await eventually(
      async () =>
        expect(await page.locator('section.results ol > li .markdown').first().innerText()).toBe(TEXT.edited),
      10_000,
      'the edited memory to rank first',
    );
  }, 120_000);

  it('the second user sees what was shared with them; the third does not', async () => {
    await bob.page.goto('/memories');
    const bobSees = await listedTexts(bob.page);
    expect(bobSees.sort()).toEqual([TEXT.public, TEXT.shared, TEXT.edited].sort());
    await bob.page.getByRole('listitem').filter({ hasText: TEXT.shared }).getByText('by alice').waitFor();
    // Not hers to change: no edit or delete on alice's memories.
    const shared = bob.page.getByRole('listitem').filter({ hasText: TEXT.shared });
    await expect(shared.getByRole('link', { name: 'Edit' }).count()).resolves.toBe(0);
    await expect(shared.getByRole('button', { name: 'Delete' }).count()).resolves.toBe(0);

    await carol.page.goto('/memories');
    const carolSees = await listedTexts(carol.page);
    expect(carolSees).toEqual([TEXT.public]);
    // Nor does search reveal it to her.
    await carol.page.goto('/search');
    await carol.page.getByLabel('What are you looking for?').fill('espresso machine for the office');
    await carol.page.getByRole('button', { name: 'Search', exact: true }).click();
    await carol.page.getByRole('heading', { name: /\d+ results?/ }).waitFor();
    const found = await carol.page.locator('section.results ol > li .markdown').allInnerTexts();
    expect(found).not.toContain(TEXT.shared);
    expect(found).not.toContain(TEXT.edited);
    // The direct link is no use to her either.
    await carol.page.goto(`/memories/${ids.shared}`);
    await carol.page
      .getByRole('alert')
      .or(carol.page.getByText(/not found|no such|cannot/i))
      .first()
      .waitFor();
    await expect(carol.page.getByText(TEXT.shared).count()).resolves.toBe(0);
  }, 120_000);

  it("shows a memory's history to its owner alone, and restores an earlier version as a new one", async () => {
    // Bob may read the memory, not its history: the draft wording stays the owner's.
    await bob.page.goto(`/memories/${ids.draft}`);
    await bob.page.getByText(TEXT.edited).waitFor();
    await expect(bob.page.getByRole('heading', { name: 'History' }).count()).resolves.toBe(0);
    await expect(bob.page.getByText(TEXT.draft).count()).resolves.toBe(0);

    const { page } = alice;
    await page.goto(`/memories/${ids.draft}`);
    const history = page.getByRole('region', { name: 'History' });
    // The editor's save was two changes: the text (update_memory), then the sharing (modify_permissions).
    await history.getByText('Version 3 is the one above').waitFor();
    const versions = history.locator('li.version');
    await expect(
      versions.evaluateAll((els) => els.map((e) => e.getAttribute('data-version'))),
    ).resolves.toEqual(['2', '1']);
    await expect(versions.nth(0).innerText()).resolves.toMatch(/by you \(sharing changed\)/);
    await expect(versions.nth(1).innerText()).resolves.toContain(TEXT.draft);

    await versions.nth(1).getByRole('button', { name: 'Restore this version' }).click();
    await history
      .getByRole('alertdialog', { name: 'Restore version 1?' })
      .getByRole('button', { name: 'Restore' })
      .click();
    await page.getByRole('status').filter({ hasText: 'Restored version 1.' }).waitFor();
    await page.locator('app-memory-card').getByText(TEXT.draft).waitFor();
    await history.getByText('Version 4 is the one above').waitFor();
    await expect(versions.nth(0).innerText()).resolves.toMatch(/by you \(restored version 1\)/);
    // Private again, as version 1 was: bob no longer finds it.
    await bob.page.goto('/memories');
    expect(await listedTexts(bob.page)).not.toContain(TEXT.edited);

    // The restore is itself a version: bringing back version 3 undoes it, sharing included.
    await versions.nth(0).getByRole('button', { name: 'Restore this version' }).click();
    await history
      .getByRole('alertdialog', { name: 'Restore version 3?' })
      .getByRole('button', { name: 'Restore' })
      .click();
    await page.getByRole('status').filter({ hasText: 'Restored version 3.' }).waitFor();
    await page.locator('app-memory-card').getByText(TEXT.edited).waitFor();
    await bob.page.goto('/memories');
    await bob.page.getByText(TEXT.edited).waitFor();
  }, 120_000);

  it("asks the first user's persona; the answer cites memories, linked", async () => {
    // Alice lists her persona in the directory.
    await alice.page.goto('/personas');
    await alice.page.getByLabel('Display name').fill('Alice Martin');
    await alice.page.getByRole('checkbox', { name: /List me in the directory/ }).check();
    await alice.page.getByRole('button', { name: 'Save persona' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Persona saved.' }).waitFor();

    // Bob finds it and asks.
    const { page } = bob;
    await page.goto('/personas');
    await page.getByLabel('Search personas by name').fill('alice');
    await page.getByRole('search').getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: /Alice Martin/ }).click();
    await waitForPath(page, /^\/personas\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Ask Alice Martin' }).waitFor();
    await page.getByLabel('Your question').fill('Where can I get a good custard tart in Lisbon?');
    await page.getByRole('button', { name: 'Ask', exact: true }).click();

    const answer = page.getByRole('region', { name: 'Answer' });
    await answer.getByRole('heading', { name: 'Sources' }).waitFor({ timeout: 20_000 });
    await expect(answer.getAttribute('aria-busy')).resolves.toBe('false');
    // No LLM in this stack: the offline answer says it is quoted, not generated.
    await answer.getByText('Offline answer (quoted, not generated)').waitFor();
    await expect(answer.locator('.answer-text').innerText()).resolves.toMatch(/Belém|pastel de nata/);
    const links = answer.getByRole('list').getByRole('link', { name: /^Memory \d+$/ });
    expect(await links.count()).toBeGreaterThan(0);
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toContain(`/memories/${ids.public}`);
    // Never a memory bob may not see.
    expect(hrefs).not.toContain(`/memories/${ids.private}`);

    // A citation opens the memory it cites.
    await links.first().click();
    await waitForPath(page, /^\/memories\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Memory', exact: true }).waitFor();
    await page.locator('article .markdown').first().waitFor();
    const cited = new URL(page.url()).pathname.split('/').pop();
    expect(hrefs).toContain(`/memories/${cited}`);
  }, 120_000);

  it('renders a memory that holds script, an onerror image and a javascript: link inert', async () => {
    const { page } = alice;
    await page.goto('/memories/new');
    await fillEditor(page, { text: XSS, permission: 'public' });
    // The live preview already renders it: nothing may run there either.
    const preview = page.getByRole('region', { name: 'Preview' });
    await preview.getByRole('link', { name: 'click' }).or(preview.getByText('click')).first().waitFor();
    await page.getByRole('button', { name: 'Save memory' }).click();
    ids.xss = (await waitForPath(page, /^\/memories\/[0-9a-f-]{36}$/)).split('/').pop()!;
    await page.getByText('Careful with these:').waitFor();

    // Seen by its author (detail and list) and by another user (list).
    await bob.page.goto('/memories');
    await bob.page.getByText('Careful with these:').waitFor();
    for (const [who, p] of [
      ['alice, detail page', alice.page],
      ['bob, list', bob.page],
    ] as const) {
      await new Promise((r) => setTimeout(r, 500)); // a late onerror would have fired by now
      const dom = await p.evaluate(() => {
        const boxes = [...document.querySelectorAll('.markdown')].filter((e) =>
          e.textContent?.includes('Careful with these'),
        );
        return boxes.map((b) => ({
          html: b.innerHTML,
          scripts: b.querySelectorAll('script').length,
          handlers: [...b.querySelectorAll('*')]
            .flatMap((e) => [...e.attributes].map((a) => a.name))
            .filter((n) => n.startsWith('on')),
          hrefs: [...b.querySelectorAll('a')].map((a) => a.getAttribute('href')),
        }));
      });
      expect({ who, found: dom.length > 0 }).toEqual({ who, found: true });
      for (const d of dom) {
        expect({ who, scripts: d.scripts, handlers: d.handlers }).toEqual({ who, scripts: 0, handlers: [] });
        expect(d.html).not.toMatch(/onerror|<script|javascript:/i);
        for (const href of d.hrefs) expect(href ?? '').not.toMatch(/^\s*javascript:/i);
      }
    }
    // Nowhere in the whole document either.
    for (const p of [alice.page, bob.page]) {
      // (The app's own bundle is the one script, loaded from a file.)
      await expect(
        p.evaluate(() => document.querySelectorAll('script:not([src]), [onerror]').length),
      ).resolves.toBe(0);
    }
    expect(alice.dialogs).toEqual([]);
    expect(bob.dialogs).toEqual([]);
  }, 120_000);

  it('imports a file with a progress bar that follows the import', async () => {
    const { page } = alice;
    const N = 750;
    const file = JSON.stringify(
      Array.from({ length: N }, (_, i) => ({
        text: `Imported note ${i}: a line about ${['gardening', 'chess', 'baking', 'cycling', 'astronomy'][i % 5]} number ${i}.`,
        permission: 'private',
        tags: ['imported'],
      })),
    );
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Import & export' })
      .click();
    await waitForPath(page, /^\/transfer$/);
    // Every value the progress bar shows, as it shows it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __progress: string[] }).__progress = seen;
      const note = () => {
        const bar = document.querySelector('[role="progressbar"]');
        const v = bar && `${bar.getAttribute('aria-valuenow') ?? '-'}/${bar.getAttribute('aria-valuemax')}`;
        if (v && seen.at(-1) !== v) seen.push(v);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByLabel('File to import').setInputFiles({
      name: 'notes.json',
      mimeType: 'application/json',
      buffer: Buffer.from(file),
    });
    // The format follows the file's name and contents (read after the pick).
    await page.waitForFunction(
      () => (document.querySelector('#import-format') as HTMLSelectElement).value === 'json',
    );
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('progressbar', { name: 'Import progress' }).waitFor();
    await page.getByText(`Done: ${N} of ${N} imported.`).waitFor({ timeout: 60_000 });
    await expect(
      page.getByRole('progressbar', { name: 'Import progress' }).getAttribute('aria-valuenow'),
    ).resolves.toBe(String(N));

    const seen = await page.evaluate(() => (window as unknown as { __progress: string[] }).__progress);
    expect(seen.at(-1)).toBe(`${N}/${N}`);
    // It advanced: at least one value between nothing and all was shown on the way.
    const partial = seen.filter((v) => /^\d+\//.test(v) && Number(v.split('/')[0]) < N);
    expect({ seen, advanced: partial.length > 0 }).toEqual({ seen, advanced: true });

    await page.goto('/memories?tags=imported');
    await page.goto('/memories');
    await page
      .getByText(/Imported note \d+/)
      .first()
      .waitFor();
  }, 120_000);

  it('exports every memory the user owns as a download', async () => {
    const { page } = alice;
    await page.goto('/transfer');
    const exportCard = page.getByRole('region', { name: 'Export your memories' });
    await exportCard.getByLabel('Format').selectOption('ndjson');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      exportCard.getByRole('link', { name: 'Download export' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^picard-memories-\d{4}-\d{2}-\d{2}\.ndjson$/);
    const body = await readFile((await download.path())!, 'utf8');
    const rows = body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { text: string; permission: string; tags: string[] });
    expect(rows).toHaveLength(5 + 750);
    const texts = rows.map((r) => r.text);
    expect(texts).toEqual(expect.arrayContaining([TEXT.private, TEXT.public, TEXT.shared, TEXT.edited, XSS]));
    expect(rows.find((r) => r.text === TEXT.public)).toMatchObject({
      permission: 'public',
      tags: ['travel', 'food'],
    });
    expect(rows.find((r) => r.text === TEXT.edited)).toMatchObject({ permission: 'shared' });
    expect(body).not.toMatch(JWT_PATTERN);
  }, 120_000);

  it('keeps every token out of the browsers: storage, cookies and every /bff response', async () => {
    const tokens = (await w.picardTokens()).flatMap((t) => [t.access, t.refresh]);
    expect(tokens.length).toBe(6); // three sign-ins, access + refresh each
    for (const [who, u] of [
      ['alice', alice],
      ['bob', bob],
      ['carol', carol],
    ] as const) {
      const seen = await u.page.evaluate(async () => {
        const dump = (s: Storage) =>
          Object.fromEntries(Array.from({ length: s.length }, (_, i) => [s.key(i)!, s.getItem(s.key(i)!)]));
        return {
          local: dump(localStorage),
          session: dump(sessionStorage),
          cookie: document.cookie,
          idb: (await indexedDB.databases()).map((d) => d.name),
        };
      });
      // Script-readable cookies: the CSRF token only (it is no credential).
      const scriptCookies = seen.cookie
        .split('; ')
        .filter(Boolean)
        .map((c) => c.split('=')[0]);
      expect({ who, scriptCookies }).toEqual({ who, scriptCookies: ['XSRF-TOKEN'] });
      expect({ who, local: seen.local, session: seen.session, idb: seen.idb }).toEqual({
        who,
        local: {},
        session: {},
        idb: [],
      });

      const jar = await u.context.cookies();
      expect(jar.map((c) => c.name).sort()).toEqual(['XSRF-TOKEN', 'picard_web.sid']);
      expect(jar.find((c) => c.name === 'picard_web.sid')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

      // A body the page was reading when it navigated away is lost (seen under load in the full
      // suite, for a session read and for a tool call); one more of each from the page makes sure
      // the recorder sees at least one whose body could carry a token.
      expect((await u.api('GET', '/bff/session')).status).toBe(200);
      expect((await u.api('POST', '/bff/tools/list_groups', {})).status).toBe(200);
      await u.settled();
      expect(u.bffBodies.filter((b) => b.url.includes('/bff/session')).length).toBeGreaterThan(0);
      expect(u.bffBodies.filter((b) => b.url.includes('/bff/tools/')).length).toBeGreaterThan(0);
      const everything = [JSON.stringify(seen), JSON.stringify(jar), ...u.bffBodies.map((b) => b.body)].join(
        '\n',
      );
      expect(everything).not.toMatch(JWT_PATTERN);
      for (const token of tokens) expect(everything.includes(token)).toBe(false);
      expect({ who, errors: u.pageErrors }).toEqual({ who, errors: [] });
    }
  }, 120_000);

  it('logs out: back to the sign-in page, the session and the Picard grant gone', async () => {
    const { page } = alice;
    const [user] = await w.bff.knex('users').where({ username: 'alice' }).select('id');
    const held = (await w.picardTokens()).filter((t) => t.userId === user.id);
    expect(held).toHaveLength(1);
    await page.goto('/memories');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Log out' }).click();
    await waitForPath(page, /^\/login$/);
    await page.getByRole('status').filter({ hasText: 'You are signed out.' }).waitFor();
    const rows = await w.bff.knex('picard_tokens').where({ user_id: user.id });
    expect(rows).toEqual([]);
    expect((await alice.context.cookies()).map((c) => c.name)).not.toContain('picard_web.sid');
    // The refresh token was revoked at Picard: it no longer buys a token.
    const creds = (await w.bff.registration.credentials())!;
    const refused = await fetch(`${w.t.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: held[0]!.refresh }),
    });
    expect(refused.status).toBe(400);
    await expect(refused.json()).resolves.toMatchObject({ error: 'invalid_grant' });
    // The signed-in pages send her back to sign in.
    await page.goto('/memories');
    await waitForPath(page, /^\/login$/);
    // And signing in again works.
    await logIn(alice, 'alice');
    await expect(listedTexts(page)).resolves.not.toHaveLength(0);
  }, 120_000);
});
