import { describe, expect, it } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { Router, UrlTree, type ActivatedRouteSnapshot, type RouterStateSnapshot } from '@angular/router';
import { ErrorStore } from '../errors/error-store';
import { authGuard, guestGuard } from './auth-guards';
import { setupHttp, signedIn } from '../../../testing/helpers';

const run = (guard: typeof authGuard) =>
  TestBed.runInInjectionContext(() =>
    guard({} as ActivatedRouteSnapshot, {} as RouterStateSnapshot),
  ) as Promise<boolean | UrlTree>;

describe('authGuard', () => {
  it('sends a signed-out visitor to /login', async () => {
    const { http } = setupHttp();
    const result = run(authGuard);
    http.expectOne('/bff/session').flush({ authenticated: false, picard_sign_in_available: false });
    const tree = await result;
    expect(tree instanceof UrlTree && TestBed.inject(Router).serializeUrl(tree)).toBe('/login');
  });

  it('lets a signed-in user through', async () => {
    const { http } = setupHttp();
    const result = run(authGuard);
    http.expectOne('/bff/session').flush(signedIn());
    await expect(result).resolves.toBe(true);
  });

  it('goes to /login (and says why in the banner) when the session cannot be read', async () => {
    const { http } = setupHttp();
    const result = run(authGuard);
    http
      .expectOne('/bff/session')
      .flush(
        { error: 'picard_unavailable', message: 'Picard is unreachable.' },
        { status: 503, statusText: 'Unavailable' },
      );
    const tree = await result;
    expect(tree instanceof UrlTree && TestBed.inject(Router).serializeUrl(tree)).toBe('/login');
    expect(TestBed.inject(ErrorStore).current()?.message).toBe('Picard is unreachable.');
  });
});

describe('guestGuard', () => {
  it('sends a signed-in user from /login to /memories', async () => {
    setupHttp(signedIn());
    const tree = await run(guestGuard);
    expect(tree instanceof UrlTree && TestBed.inject(Router).serializeUrl(tree)).toBe('/memories');
  });

  it('shows /login to a visitor', async () => {
    setupHttp({ authenticated: false, picard_sign_in_available: false });
    await expect(run(guestGuard)).resolves.toBe(true);
  });
});
