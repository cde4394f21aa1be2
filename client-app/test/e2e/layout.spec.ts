import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { DESKTOP, PHONE, startWebStack, type WebStack, type WebUser } from './support/web-stack.js';
import { expectNoHorizontalScroll, logIn, signUp, waitForPath } from './support/ui.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = path.resolve(here, '../../../docs/screenshots');
/** Screenshots are written only on request, so that a normal run leaves the tree clean. */
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';

/**
 * Every main page at a desktop (1280x800) and a phone (375x812) viewport, with real content: no
 * page scrolls sideways on the phone. With UPDATE_SCREENSHOTS=1 each page is also photographed into
 * docs/screenshots/<desktop|phone>-<page>.png (what the README shows): login, signup, memories,
 * memory-detail, editor, search, personas, persona-ask, groups, transfer, activity, account, and on
 * the phone menu-open.
 */
describe('the web app in a browser: every page fits a phone, screenshots', () => {
  let w: WebStack;
  let seed: WebUser;
  let alicePicardId = '';
  let editId = '';

  const MEMORIES: {
    text: string;
    permission: 'private' | 'public' | 'shared';
    tags: string[];
    share?: boolean;
  }[] = [
    {
      text: 'Met **Jonas** at the climbing gym: he recommends the _Frankenjura_ for a first outdoor trip.\n\n- bring 70 m rope\n- guidebook at the hut',
      permission: 'private',
      tags: ['climbing', 'travel'],
    },
    {
      text: 'The best pastel de nata in Lisbon is at a small bakery in Belém, near the tram stop. Go early: by eleven the queue reaches the corner.',
      permission: 'public',
      tags: ['travel', 'food', 'lisbon'],
    },
    {
      text: 'Team offsite: a hiking weekend in the Alps in March. Bob books the hut, I bring the first-aid kit. See [the route](https://example.org/route).',
      permission: 'shared',
      tags: ['work'],
      share: true,
    },
    {
      text: 'A very long identifier that must wrap on a phone: config-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-end and https://example.org/a/really/long/path/that/goes/on/and/on/and/on/without/spaces',
      permission: 'private',
      tags: ['a-rather-long-tag-name-for-wrapping'],
    },
    {
      text: 'Sourdough: 500 g flour, 350 g water, 100 g starter, 10 g salt; fold four times, proof overnight in the fridge.',
      permission: 'public',
      tags: ['food', 'baking'],
    },
  ];

  beforeAll(async () => {
    w = await startWebStack();
    seed = await w.newUser();
    const bob = await w.newUser();
    await signUp(bob, 'bob');
    await bob.page.close();
    await signUp(seed, 'alice');
    const session = await seed.api('GET', '/bff/session');
    alicePicardId = session.json.user.picard_user_id;
    const bobId = (await seed.api('POST', '/bff/tools/lookup_users', { usernames: ['bob'] })).json.result
      .users[0].user_id;
    for (const m of MEMORIES) {
      const res = await seed.api('POST', '/bff/tools/submit_memory', {
        text: m.text,
        permission: m.permission,
        tags: m.tags,
        ...(m.share ? { shared_with: { users: [bobId], groups: [] } } : {}),
      });
      if (res.status !== 200) throw new Error(`seeding failed: ${res.status} ${JSON.stringify(res.json)}`);
      if (m.share) editId = res.json.result.id;
    }
    // One earlier version, for the history on the memory's page.
    await seed.api('POST', '/bff/tools/update_memory', {
      memory_id: editId,
      text: MEMORIES.find((m) => m.share)!.text.replace('in March', 'in March (dates to be confirmed)'),
    });
    await seed.api('POST', '/bff/tools/update_memory', {
      memory_id: editId,
      text: MEMORIES.find((m) => m.share)!.text,
    });
    await seed.api('POST', '/bff/tools/update_persona', {
      display_name: 'Alice Martin',
      description: 'Climber, baker, occasional traveller. Ask me about Lisbon or sourdough.',
      listed: true,
    });
    await seed.api('POST', '/bff/tools/create_group', { name: 'Climbing club' });
    for (const query of ['bakery in Lisbon', 'climbing trip', 'bread recipe']) {
      await seed.api('POST', '/bff/tools/query_memory', { query });
    }
  }, 180_000);

  afterAll(async () => {
    await w?.stop();
  }, 60_000);

  async function shoot(page: Page, kind: string, name: string) {
    await expectNoHorizontalScroll(page, `${kind} ${name}`);
    if (!UPDATE) return;
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.waitForTimeout(250); // transitions
    await page.screenshot({
      path: path.join(SCREENSHOTS, `${kind}-${name}.png`),
      fullPage: true,
      animations: 'disabled',
    });
  }

  for (const [kind, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    it(`${kind} (${viewport.width}x${viewport.height}): every main page fits the width`, async () => {
      const u = await w.newUser({ viewport });
      const { page } = u;

      await page.goto('/signup');
      await page.getByRole('heading', { name: 'Create your Picard account' }).waitFor();
      await shoot(page, kind, 'signup');
      await page.goto('/login');
      await page.getByRole('heading', { name: 'Sign in to Picard' }).waitFor();
      await page.getByRole('link', { name: 'Sign in with Picard' }).waitFor();
      await shoot(page, kind, 'login');

      await logIn(u, 'alice');
      await page.getByRole('list', { name: 'Memories' }).waitFor();
      await page.getByText('Sourdough').waitFor();
      await shoot(page, kind, 'memories');

      if (kind === 'phone') {
        const toggle = page.getByRole('button', { name: 'Menu' });
        await toggle.click();
        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link', { name: 'Activity' })
          .waitFor();
        await expect(
          page.getByRole('button', { name: 'Close menu' }).getAttribute('aria-expanded'),
        ).resolves.toBe('true');
        await shoot(page, kind, 'menu-open');
        await page.getByRole('button', { name: 'Close menu' }).click();
      }

      await page.goto(`/memories/${editId}`);
      await page.getByText('Team offsite').first().waitFor();
      await page.getByRole('region', { name: 'History' }).getByText('dates to be confirmed').waitFor();
      await shoot(page, kind, 'memory-detail');

      await page.goto(`/memories/${editId}/edit`);
      await page.getByRole('heading', { name: 'Edit memory' }).waitFor();
      await page.getByRole('list', { name: 'People it is shared with' }).getByText('bob').waitFor();
      await shoot(page, kind, 'editor');
      if (kind === 'phone') {
        await page.getByRole('button', { name: 'Preview' }).click();
        await page.getByRole('region', { name: 'Preview' }).getByText('Team offsite').waitFor();
        await expectNoHorizontalScroll(page, `${kind} editor preview`);
      }

      await page.goto('/search');
      await page.getByLabel('What are you looking for?').fill('where to eat in Portugal');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('heading', { name: /\d+ results?/ }).waitFor();
      await page.locator('section.results li').first().waitFor();
      await shoot(page, kind, 'search');

      await page.goto('/personas');
      await page.getByRole('link', { name: /Alice Martin/ }).waitFor();
      await page.getByLabel('Display name').waitFor();
      await shoot(page, kind, 'personas');

      await page.goto(`/personas/${alicePicardId}`);
      await page.getByLabel('Your question').fill('Where should I go for pastries in Lisbon?');
      await page.getByRole('button', { name: 'Ask', exact: true }).click();
      await page
        .getByRole('region', { name: 'Answer' })
        .getByRole('heading', { name: 'Sources' })
        .waitFor({ timeout: 20_000 });
      await shoot(page, kind, 'persona-ask');

      await page.goto('/activity');
      await page.getByRole('heading', { name: 'Your live memories by permission' }).waitFor();
      await shoot(page, kind, 'activity');

      await page.goto('/groups');
      await page.getByText('Climbing club').first().waitFor();
      await shoot(page, kind, 'groups');

      await page.goto('/transfer');
      await page.getByLabel('File to import').setInputFiles({
        name: 'notes.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(
          // Dated years back, so that they sort below the memories the other pages show.
          'text,permission,tags,created_at\n' +
            Array.from(
              { length: 120 },
              (_, i) =>
                `"Imported reading note ${i} (${kind})",private,reading,2019-03-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
            ).join('\n'),
        ),
      });
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await page.getByText('Done: 120 of 120 imported.').waitFor({ timeout: 60_000 });
      await shoot(page, kind, 'transfer');
      // The imported notes go again, so that the next viewport's pages look the same.
      for (;;) {
        const listed = await u.api('POST', '/bff/tools/get_memories', { tags: ['reading'], limit: 100 });
        const ids = (listed.json.result.memories as { id: string }[]).map((m) => m.id);
        if (ids.length === 0) break;
        expect((await u.api('POST', '/bff/tools/delete_memories', { memory_ids: ids })).status).toBe(200);
      }

      await page.goto('/account');
      await page.getByRole('heading', { name: 'Profile' }).waitFor();
      await page.getByText('alice@example.test').or(page.getByLabel('Email')).first().waitFor();
      await shoot(page, kind, 'account');

      await page.goto('/no/such/page');
      await expectNoHorizontalScroll(page, `${kind} not found`);
      expect(u.pageErrors).toEqual([]);
      await waitForPath(page, /.*/);
    }, 180_000);
  }
});
