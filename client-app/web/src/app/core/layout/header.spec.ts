import { describe, expect, it, jest } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { settle, setupHttp, signedIn } from '../../../testing/helpers';
import { Header } from './header';

describe('Header', () => {
  it('shows a read-only badge, a menu toggle and logs out through the BFF', async () => {
    const { http, session } = setupHttp(signedIn({ can_write: false }));
    const navigate = jest.spyOn(TestBed.inject(Router), 'navigateByUrl').mockResolvedValue(true);
    const fixture = TestBed.createComponent(Header);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    expect(el.textContent).toContain('Read-only');
    const toggle = el.querySelector('.menu-toggle') as HTMLButtonElement;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    toggle.click();
    await fixture.whenStable();
    expect(toggle.getAttribute('aria-expanded')).toBe('true');

    (
      Array.from(el.querySelectorAll('button')).find(
        (b) => b.textContent?.trim() === 'Log out',
      ) as HTMLButtonElement
    ).click();
    const req = http.expectOne('/bff/auth/logout');
    expect(req.request.method).toBe('POST');
    req.flush(null, { status: 204, statusText: 'No Content' });
    await settle();
    expect(session.user()).toBeNull();
    expect(navigate).toHaveBeenCalledWith('/login');
  });
});
