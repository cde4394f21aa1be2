import { describe, expect, it } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { BOB, ME, memory, settle, setupHttp, signedIn } from '../../../../testing/helpers';
import { MemoryList } from './memory-list';

const mine = memory({ id: 'm-mine', user_id: ME, text: 'Mine', tags: ['trip'] });
const bobs = memory({ id: 'm-bob', user_id: BOB, text: "Bob's", permission: 'public' });

async function render(canWrite: boolean) {
  const { http } = setupHttp(signedIn({ can_write: canWrite }));
  const fixture = TestBed.createComponent(MemoryList);
  await fixture.whenStable();
  const list = http.expectOne('/bff/tools/get_memories');
  expect(list.request.body).toEqual({ expired: 'exclude', sort: 'created_at', order: 'desc', limit: 20 });
  list.flush({ result: { memories: [mine, bobs], next_cursor: 'c2' } });
  await settle();
  http.expectOne('/bff/tools/lookup_users').flush({ result: { users: [{ user_id: BOB, username: 'bob' }] } });
  await settle();
  await fixture.whenStable();
  const el: HTMLElement = fixture.nativeElement;
  const buttons = () => Array.from(el.querySelectorAll('button, a')).map((b) => b.textContent?.trim());
  return { http, fixture, el, buttons };
}

describe('MemoryList', () => {
  it('offers writing, editing and deleting of own memories only', async () => {
    const { el, buttons } = await render(true);
    expect(buttons()).toContain('New memory');
    expect(buttons().filter((b) => b === 'Edit')).toHaveLength(1);
    expect(buttons().filter((b) => b === 'Delete')).toHaveLength(1);
    expect(el.querySelectorAll('app-memory-card input[type=checkbox]')).toHaveLength(1);
    expect(Array.from(el.querySelectorAll('.owner')).map((o) => o.textContent?.trim())).toEqual([
      'by you',
      'by bob',
    ]);
  });

  it('hides every write action in a read-only session', async () => {
    const { el, buttons } = await render(false);
    for (const label of ['New memory', 'Edit', 'Delete', 'Delete selected'])
      expect(buttons()).not.toContain(label);
    expect(el.querySelectorAll('input[type=checkbox]')).toHaveLength(0);
    expect(buttons()).toContain('Load more');
  });

  it('loads the next page with the cursor', async () => {
    const { el, http, fixture } = await render(false);
    (
      Array.from(el.querySelectorAll('button')).find((b) =>
        b.textContent?.includes('Load more'),
      ) as HTMLButtonElement
    ).click();
    const next = http.expectOne('/bff/tools/get_memories');
    expect(next.request.body.cursor).toBe('c2');
    next.flush({ result: { memories: [memory({ id: 'm3', text: 'Third' })], next_cursor: null } });
    await settle();
    await fixture.whenStable();
    expect(el.querySelectorAll('app-memory-card')).toHaveLength(3);
    expect(el.textContent).not.toContain('Load more');
  });

  it('deletes the selected memories after a confirmation', async () => {
    const { el, http, fixture } = await render(true);
    (el.querySelector('app-memory-card input[type=checkbox]') as HTMLInputElement).click();
    await fixture.whenStable();
    expect(el.textContent).toContain('1 selected');
    (
      Array.from(el.querySelectorAll('button')).find(
        (b) => b.textContent?.trim() === 'Delete selected',
      ) as HTMLButtonElement
    ).click();
    await fixture.whenStable();
    http.expectNone('/bff/tools/delete_memories');
    expect(el.querySelector('[role=alertdialog]')?.textContent).toContain('Delete 1 memory?');
    (el.querySelector('[role=alertdialog] .btn-danger') as HTMLButtonElement).click();
    const del = http.expectOne('/bff/tools/delete_memories');
    expect(del.request.body).toEqual({ memory_ids: ['m-mine'] });
    del.flush({ result: { deleted_ids: ['m-mine'] } });
    await settle();
    await fixture.whenStable();
    expect(el.querySelectorAll('app-memory-card')).toHaveLength(1);
    expect(el.querySelector('[role=status]')?.textContent).toContain('Memory deleted.');
  });

  it('sends the filters as get_memories input', async () => {
    const { el, http, fixture } = await render(true);
    const set = (sel: string, value: string) => {
      const input = el.querySelector(sel) as HTMLInputElement | HTMLSelectElement;
      input.value = value;
      input.dispatchEvent(new Event(input.tagName === 'SELECT' ? 'change' : 'input'));
    };
    set('#f-permission', 'shared');
    set('#f-owner', 'me');
    set('#f-expired', 'only');
    set('#f-sort', 'expiration_date');
    set('#f-order', 'asc');
    set('#f-after', '2026-01-01');
    await fixture.whenStable();
    (
      Array.from(el.querySelectorAll('button')).find(
        (b) => b.textContent?.trim() === 'Apply filters',
      ) as HTMLButtonElement
    ).click();
    await fixture.whenStable();
    const req = http.expectOne('/bff/tools/get_memories');
    expect(req.request.body).toEqual({
      permission: 'shared',
      user_id: ME,
      expired: 'only',
      sort: 'expiration_date',
      order: 'asc',
      limit: 20,
      created_after: new Date('2026-01-01T00:00:00').toISOString(),
    });
  });
});
