import { describe, expect, it, jest } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { BOB, ME, settle, setupHttp, signedIn } from '../../../../testing/helpers';
import { MemoryEditor } from './memory-editor';

async function open() {
  const { http, session } = setupHttp(signedIn());
  const fixture = TestBed.createComponent(MemoryEditor);
  await fixture.whenStable();
  http.expectOne('/bff/tools/list_groups').flush({
    result: {
      groups: [
        {
          id: 'g-1',
          owner_id: ME,
          name: 'Family',
          member_ids: [ME, BOB],
          created_at: '2026-01-01T00:00:00Z',
        },
      ],
    },
  });
  await settle();
  await fixture.whenStable();
  const el: HTMLElement = fixture.nativeElement;
  const type = async (selector: string, value: string) => {
    const input = el.querySelector(selector) as HTMLInputElement | HTMLTextAreaElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
    await fixture.whenStable();
  };
  const click = async (text: string) => {
    const button = Array.from(el.querySelectorAll('button')).find((b) => b.textContent?.trim() === text);
    if (!button) throw new Error(`no button "${text}"`);
    button.click();
    await settle();
    await fixture.whenStable();
  };
  return { http, session, fixture, el, type, click };
}

describe('MemoryEditor', () => {
  it('previews the Markdown as it is typed, sanitized', async () => {
    const { el, type } = await open();
    await type('#memory-text', '**Hello** <img src=x onerror=alert(1)>');
    const preview = el.querySelector('.preview-box') as HTMLElement;
    expect(preview.querySelector('strong')?.textContent).toBe('Hello');
    expect(preview.querySelector('img')?.getAttribute('onerror')).toBeNull();
  });

  it('refuses an empty memory and marks the field', async () => {
    const { el, click, http } = await open();
    await click('Save memory');
    expect(el.querySelector('[role=alert]')?.textContent).toContain('Write something');
    expect(el.querySelector('#memory-text')?.getAttribute('aria-invalid')).toBe('true');
    http.expectNone('/bff/tools/submit_memory');
  });

  it('resolves usernames through lookup_users, says which are unknown, and submits the ids', async () => {
    const { el, type, click, http, fixture } = await open();
    const navigate = jest.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    await type('#memory-text', 'Dinner plans');
    (el.querySelector('input[type=radio][value=shared]') as HTMLInputElement).click();
    await fixture.whenStable();

    // Shared with nobody yet: refused before any call.
    await click('Save memory');
    expect(el.textContent).toContain('Choose at least one person or group');

    await type('#share-username', 'bob, nobody');
    await click('Add person');
    const lookup = http.expectOne('/bff/tools/lookup_users');
    expect(lookup.request.body).toEqual({ usernames: ['bob', 'nobody'] });
    lookup.flush({ result: { users: [{ user_id: BOB, username: 'bob' }] } });
    await settle();
    await fixture.whenStable();
    expect(el.querySelector('#share-status')?.textContent).toContain('No user named "nobody".');
    expect(el.querySelector('.people')?.textContent).toContain('bob');

    (el.querySelector('.groups input[type=checkbox]') as HTMLInputElement).click();
    await fixture.whenStable();

    await click('Save memory');
    const submit = http.expectOne('/bff/tools/submit_memory');
    expect(submit.request.body).toEqual({
      text: 'Dinner plans',
      permission: 'shared',
      shared_with: { users: [BOB], groups: ['g-1'] },
    });
    submit.flush({
      result: {
        id: 'new-1',
        user_id: ME,
        text: 'Dinner plans',
        permission: 'shared',
        expiration_date: null,
        created_at: '2026-01-01T00:00:00Z',
        updated_at: '2026-01-01T00:00:00Z',
        tags: [],
        shared_with: { users: [BOB], groups: ['g-1'] },
      },
    });
    await settle();
    expect(navigate).toHaveBeenCalledWith(['/memories', 'new-1'], expect.anything());
  });

  it("shows the BFF's error and highlights its field", async () => {
    const { el, type, click, http, fixture } = await open();
    await type('#memory-text', 'Something');
    await click('Save memory');
    http
      .expectOne('/bff/tools/submit_memory')
      .flush(
        { error: 'invalid_argument', message: 'tags[0] must be 1-64 characters', field: 'data.tags[0]' },
        { status: 400, statusText: 'Bad Request' },
      );
    await settle();
    await fixture.whenStable();
    expect(el.querySelector('[role=alert]')?.textContent).toContain('tags[0] must be 1-64 characters');
    expect(el.querySelector('#memory-tags')?.getAttribute('aria-invalid')).toBe('true');
  });

  it('says so instead of offering a form in a read-only session', async () => {
    setupHttp(signedIn({ can_write: false }));
    const fixture = TestBed.createComponent(MemoryEditor);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    expect(el.textContent).toContain('read access only');
    expect(el.querySelector('form')).toBeNull();
  });
});
