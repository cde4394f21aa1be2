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
});
