import { describe, expect, it, jest } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { settle, setupHttp, signedIn } from '../../../../testing/helpers';
import { Transfer } from './transfer';

describe('Transfer page', () => {
  it('picks the format from the extension, uploads the text and follows the progress bar to the result', async () => {
    const { http } = setupHttp(signedIn());
    const fixture = TestBed.createComponent(Transfer);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;

    const file = new File(['{"text":"a"}\n{"text":"b"}\n'], 'memories.ndjson', {
      type: 'application/x-ndjson',
    });
    // jsdom's File has no text() in every version.
    Object.defineProperty(file, 'text', { value: async () => '{"text":"a"}\n{"text":"b"}\n' });
    const input = el.querySelector('#import-file') as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: [file] });
    input.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    expect((el.querySelector('#import-format') as HTMLSelectElement).value).toBe('ndjson');

    jest.useFakeTimers({ doNotFake: ['queueMicrotask'] });
    try {
      (el.querySelector('button[type=submit]') as HTMLButtonElement).click();
      await jest.advanceTimersByTimeAsync(0);
      const start = http.expectOne('/bff/imports');
      expect(start.request.method).toBe('POST');
      expect(start.request.body).toEqual({ format: 'ndjson', data: '{"text":"a"}\n{"text":"b"}\n' });
      start.flush({ job: { id: 'j1', state: 'running', format: 'ndjson', done: 0, total: 2 } });
      await jest.advanceTimersByTimeAsync(0);
      await fixture.whenStable();
      let bar = el.querySelector('[role=progressbar]')!;
      expect(bar.getAttribute('aria-valuenow')).toBe('0');
      expect(bar.getAttribute('aria-valuemax')).toBe('2');
      expect(el.textContent).toContain('Importing: 0 of 2');

      await jest.advanceTimersByTimeAsync(300);
      http
        .expectOne('/bff/imports/j1')
        .flush({ job: { id: 'j1', state: 'running', format: 'ndjson', done: 1, total: 2 } });
      await jest.advanceTimersByTimeAsync(0);
      await fixture.whenStable();
      bar = el.querySelector('[role=progressbar]')!;
      expect(bar.getAttribute('aria-valuenow')).toBe('1');
      expect(el.textContent).toContain('Importing: 1 of 2');

      await jest.advanceTimersByTimeAsync(300);
      http.expectOne('/bff/imports/j1').flush({
        job: {
          id: 'j1',
          state: 'done',
          format: 'ndjson',
          done: 1,
          total: 2,
          result: {
            imported: 1,
            total: 2,
            errors: [{ index: 1, code: 'invalid_argument', field: 'text', message: 'text is empty' }],
          },
        },
      });
      await jest.advanceTimersByTimeAsync(0);
      await fixture.whenStable();
      expect(el.textContent).toContain('Done: 1 of 2 imported.');
      expect(el.textContent).toContain('Item 2 (text): text is empty');
      await jest.advanceTimersByTimeAsync(1000);
      http.verify();
    } finally {
      jest.useRealTimers();
    }
  });

  it('links the export to /bff/exports in the chosen format', async () => {
    setupHttp(signedIn({ can_write: false }));
    const fixture = TestBed.createComponent(Transfer);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    const select = el.querySelector('#export-format') as HTMLSelectElement;
    select.value = 'csv';
    select.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    expect(el.querySelector('a[download]')?.getAttribute('href')).toBe('/bff/exports?format=csv');
    // Read-only: no import form.
    expect(el.querySelector('#import-file')).toBeNull();
    await settle();
  });

  it('remembers a pasted conversation through the BFF and lists what was added, updated and skipped', async () => {
    const { http } = setupHttp(signedIn());
    const fixture = TestBed.createComponent(Transfer);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    const area = el.querySelector('#conversation-text') as HTMLTextAreaElement;
    const submit = el.querySelector(
      'section[aria-labelledby=remember-title] button[type=submit]',
    ) as HTMLButtonElement;

    // Nothing the user said: refused here, no request.
    area.value = 'Assistant: Hello!';
    area.dispatchEvent(new Event('input'));
    submit.click();
    await fixture.whenStable();
    expect(el.textContent).toContain('Paste a conversation with at least one thing you said.');
    expect(area.getAttribute('aria-invalid')).toBe('true');
    http.verify();

    area.value = 'Me: I moved to Lyon\nAssistant: Nice!\nMe: I still play the cello';
    area.dispatchEvent(new Event('input'));
    submit.click();
    await fixture.whenStable();
    const req = http.expectOne('/bff/tools/remember_conversation');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toEqual({
      messages: [
        { role: 'user', content: 'I moved to Lyon' },
        { role: 'assistant', content: 'Nice!' },
        { role: 'user', content: 'I still play the cello' },
      ],
    });
    req.flush({
      result: {
        added: [],
        updated: [{ memory_id: 'm1', text: 'I live in Lyon', previous_text: 'I live in Paris' }],
        skipped: [{ text: 'I play the cello', reason: 'already known', memory_id: 'm2' }],
        generated: true,
      },
    });
    await settle();
    await fixture.whenStable();
    expect(el.textContent).toContain('Done: 0 added, 1 updated, 1 skipped.');
    expect(el.textContent).toContain('Updated: I live in Lyon (was: I live in Paris; kept in its history)');
    expect(el.querySelector('.remembered a')?.getAttribute('href')).toBe('/memories/m1');
    expect(el.textContent).toContain('Skipped: I play the cello (already known)');
    expect(el.textContent).not.toContain('Paste a conversation');
    http.verify();
  });

  it('shows the server\u2019s refusal of a conversation and hides the form when read-only', async () => {
    const { http } = setupHttp(signedIn());
    const fixture = TestBed.createComponent(Transfer);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    const area = el.querySelector('#conversation-text') as HTMLTextAreaElement;
    area.value = 'Me: ' + 'x'.repeat(10);
    area.dispatchEvent(new Event('input'));
    (
      el.querySelector('section[aria-labelledby=remember-title] button[type=submit]') as HTMLButtonElement
    ).click();
    await fixture.whenStable();
    http
      .expectOne('/bff/tools/remember_conversation')
      .flush(
        { error: 'invalid_argument', field: 'data.messages', message: 'data.messages: too many characters' },
        { status: 400, statusText: 'Bad Request' },
      );
    await settle();
    await fixture.whenStable();
    expect(el.textContent).toContain('too many characters');
    expect(area.getAttribute('aria-invalid')).toBe('true');
    http.verify();

    TestBed.resetTestingModule();
    setupHttp(signedIn({ can_write: false }));
    const readOnly = TestBed.createComponent(Transfer);
    await readOnly.whenStable();
    expect(readOnly.nativeElement.querySelector('#conversation-text')).toBeNull();
    expect(readOnly.nativeElement.textContent).toContain('Remembering needs write access');
    await settle();
  });
});
