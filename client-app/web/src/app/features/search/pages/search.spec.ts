import { describe, expect, it } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { BOB, memory, settle, setupHttp, signedIn } from '../../../../testing/helpers';
import { Search, toQueryInput } from './search';

describe('toQueryInput', () => {
  it('maps the form to query_memory: mode, percent to cosine, filters', () => {
    expect(
      toQueryInput({
        query: ' lisbon ',
        mode: 'keyword',
        limit: 5,
        minSimilarity: 40,
        permission: 'public',
        tags: ['trip'],
      }),
    ).toEqual({
      query: 'lisbon',
      limit: 5,
      mode: 'keyword',
      min_similarity: 0.4,
      permission: 'public',
      tags: ['trip'],
    });
    expect(
      toQueryInput({ query: 'x', mode: 'hybrid', limit: 10, minSimilarity: null, permission: '', tags: [] }),
    ).toEqual({
      query: 'x',
      limit: 10,
    });
    expect(
      toQueryInput({ query: 'x', mode: 'vector', limit: 10, minSimilarity: null, permission: '', tags: [] })
        .mode,
    ).toBe('vector');
  });
});

describe('Search page', () => {
  it('shows each result with its similarity as a percent bar, owner names resolved', async () => {
    const { http } = setupHttp(signedIn());
    const fixture = TestBed.createComponent(Search);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    const input = el.querySelector('#s-query') as HTMLInputElement;
    input.value = 'restaurants';
    input.dispatchEvent(new Event('input'));
    (el.querySelector('button[type=submit]') as HTMLButtonElement).click();
    await fixture.whenStable();

    const req = http.expectOne('/bff/tools/query_memory');
    expect(req.request.body).toEqual({ query: 'restaurants', limit: 10 });
    req.flush({
      result: {
        memories: [
          { ...memory({ id: 'm1', text: 'The **fish** place' }), similarity: 0.873 },
          { ...memory({ id: 'm2', text: 'Cafe', user_id: BOB, permission: 'public' }), similarity: 0.41 },
        ],
      },
    });
    await settle();
    http
      .expectOne('/bff/tools/lookup_users')
      .flush({ result: { users: [{ user_id: BOB, username: 'bob' }] } });
    await settle();
    await fixture.whenStable();

    expect(el.querySelector('h2')?.textContent).toContain('2 results');
    const meters = Array.from(el.querySelectorAll('[role=meter]'));
    expect(meters.map((m) => m.getAttribute('aria-valuenow'))).toEqual(['87', '41']);
    expect((meters[0]!.querySelector('span') as HTMLElement).style.width).toBe('87%');
    expect(el.textContent).toContain('87% similar');
    expect(el.querySelector('.markdown strong')?.textContent).toBe('fish');
    const owners = Array.from(el.querySelectorAll('.owner')).map((o) => o.textContent?.trim());
    expect(owners).toEqual(['by you', 'by bob']);
  });

  it('says when nothing matched, and shows a failure with its field', async () => {
    const { http } = setupHttp(signedIn());
    const fixture = TestBed.createComponent(Search);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    (el.querySelector('button[type=submit]') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(el.querySelector('#s-query')?.getAttribute('aria-invalid')).toBe('true');
    http.expectNone('/bff/tools/query_memory');

    const input = el.querySelector('#s-query') as HTMLInputElement;
    input.value = 'zzz';
    input.dispatchEvent(new Event('input'));
    (el.querySelector('button[type=submit]') as HTMLButtonElement).click();
    await fixture.whenStable();
    http.expectOne('/bff/tools/query_memory').flush({ result: { memories: [] } });
    await settle();
    await fixture.whenStable();
    expect(el.textContent).toContain('Nothing close enough');
  });
});
