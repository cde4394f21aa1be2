import { expect } from '@jest/globals';
import type { Page } from 'playwright-core';
import type { WebUser } from './web-stack.js';

/**
 * The flows a person goes through, driven by what the page shows (roles, labels, text), so the
 * tests break when the page stops making sense, not when markup moves.
 */

export const PASSWORD = 'a long enough password';

/** Waits until `check` passes (playwright-core has no web-first assertions of its own). */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}: ${(last as Error)?.message ?? last}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The path part of the page's URL, once it matches. */
export async function waitForPath(page: Page, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  await page.waitForURL((u) => pattern.test(u.pathname), { timeout: timeoutMs });
  return new URL(page.url()).pathname;
}

export async function signUp(u: WebUser, username: string, password = PASSWORD): Promise<void> {
  const { page } = u;
  await page.goto('/signup');
  await page.getByRole('heading', { name: 'Create your Picard account' }).waitFor();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Email', { exact: true }).fill(`${username}@example.test`);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitForPath(page, /^\/memories$/);
  await page.getByRole('heading', { name: 'Memories', level: 1 }).waitFor();
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByText(username, { exact: true })
    .waitFor({ state: 'attached' });
}

export async function logIn(u: WebUser, username: string, password = PASSWORD): Promise<void> {
  const { page } = u;
  await page.goto('/login');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await waitForPath(page, /^\/memories$/);
}

export interface NewMemory {
  text: string;
  permission?: 'private' | 'public' | 'shared';
  shareWith?: string[];
  tags?: string[];
}

const PERMISSION_LABEL = { private: /^Private/, public: /^Public/, shared: /^Shared/ } as const;

/** Writes a memory in the editor and saves it; returns its id (from the detail page's URL). */
export async function createMemory(u: WebUser, m: NewMemory): Promise<string> {
  const { page } = u;
  await page.goto('/memories');
  await page.getByRole('link', { name: 'New memory' }).click();
  await waitForPath(page, /^\/memories\/new$/);
  await fillEditor(page, m);
  await page.getByRole('button', { name: 'Save memory' }).click();
  const path = await waitForPath(page, /^\/memories\/[0-9a-f-]{36}$/);
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  return path.split('/').pop()!;
}

export async function fillEditor(page: Page, m: Partial<NewMemory>): Promise<void> {
  if (m.text !== undefined) await page.getByLabel('Memory (Markdown)').fill(m.text);
  if (m.permission) await page.getByRole('radio', { name: PERMISSION_LABEL[m.permission] }).check();
  for (const name of m.shareWith ?? []) {
    await page.getByLabel('Add a person by username').fill(name);
    await page.getByRole('button', { name: 'Add person' }).click();
    await page
      .getByRole('list', { name: 'People it is shared with' })
      .getByText(name, { exact: true })
      .waitFor();
  }
  for (const tag of m.tags ?? []) {
    const input = page.getByLabel('Tags', { exact: true });
    await input.fill(tag);
    await input.press('Enter');
    await page.getByRole('list', { name: 'Tags added' }).getByText(tag, { exact: true }).waitFor();
  }
}

/** The text of every memory card in the list now shown. */
export async function listedTexts(page: Page): Promise<string[]> {
  await page.getByRole('heading', { name: 'Memories', level: 1 }).waitFor();
  await page.getByText('Loading memories…').waitFor({ state: 'detached' });
  const list = page.getByRole('list', { name: 'Memories' });
  if ((await list.count()) === 0) return [];
  return list.locator('article .markdown').allInnerTexts();
}

export async function expectNoHorizontalScroll(page: Page, where: string): Promise<void> {
  const m = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect({ where, ...m, fits: m.scrollWidth <= m.innerWidth }).toEqual({ where, ...m, fits: true });
}
