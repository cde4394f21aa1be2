import { describe, expect, it, jest } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { settle, setupHttp, signedIn } from '../../../../testing/helpers';
import { Login } from './login';

describe('Login', () => {
  it('shows the message of a failed Picard callback and the session-ended notice', async () => {
    const { session } = setupHttp({ authenticated: false, picard_sign_in_available: true });
    session.expire();
    const fixture = TestBed.createComponent(Login);
    fixture.componentRef.setInput('error', 'access_denied');
    fixture.componentRef.setInput('message', 'You declined access.');
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    expect(el.textContent).toContain('Your Picard session has ended; please sign in again.');
    expect(el.querySelector('[role=alert]')?.textContent).toContain('You declined access.');
    const picard = Array.from(el.querySelectorAll('a')).find((a) =>
      a.textContent?.includes('Sign in with Picard'),
    )!;
    expect(picard.getAttribute('href')).toBe('/bff/auth/picard/start?access=write');
    (el.querySelector('.picard input[type=checkbox]') as HTMLInputElement).click();
    await fixture.whenStable();
    expect(picard.getAttribute('href')).toBe('/bff/auth/picard/start?access=read');
  });

  it('signs in and stores the session it answers; a wrong password is shown on the field', async () => {
    const { http, session } = setupHttp({ authenticated: false, picard_sign_in_available: false });
    const navigate = jest.spyOn(TestBed.inject(Router), 'navigateByUrl').mockResolvedValue(true);
    const fixture = TestBed.createComponent(Login);
    await fixture.whenStable();
    const el: HTMLElement = fixture.nativeElement;
    expect(el.textContent).not.toContain('Sign in with Picard');
    const type = (sel: string, v: string) => {
      const i = el.querySelector(sel) as HTMLInputElement;
      i.value = v;
      i.dispatchEvent(new Event('input'));
    };
    type('#login-username', 'alice');
    type('#login-password', 'wrong-password');
    (el.querySelector('button[type=submit]') as HTMLButtonElement).click();
    http
      .expectOne('/bff/auth/login')
      .flush(
        { error: 'invalid_credentials', message: 'Wrong username or password.' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await settle();
    await fixture.whenStable();
    expect(el.querySelector('[role=alert]')?.textContent).toContain('Wrong username or password.');
    expect(el.querySelector('#login-password')?.getAttribute('aria-invalid')).toBe('true');

    type('#login-password', 'right-password');
    (el.querySelector('button[type=submit]') as HTMLButtonElement).click();
    const ok = http.expectOne('/bff/auth/login');
    expect(ok.request.body).toEqual({ username: 'alice', password: 'right-password' });
    ok.flush(signedIn());
    await settle();
    expect(session.user()?.username).toBe('alice');
    expect(navigate).toHaveBeenCalledWith('/memories');
  });
});
