import { describe, expect, it, jest } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { BffClient } from '../api/bff-client';
import { ErrorStore } from '../errors/error-store';
import { SESSION_ENDED_MESSAGE } from '../session/session-store';
import { settle, setupHttp, signedIn } from '../../../testing/helpers';

describe('sessionExpiredInterceptor', () => {
  it('on 401 session_expired clears the session, goes to /login and says why', async () => {
    const { http, session } = setupHttp(signedIn());
    const router = TestBed.inject(Router);
    const navigate = jest.spyOn(router, 'navigateByUrl');
    const call = TestBed.inject(BffClient).tool('list_groups', {});
    http
      .expectOne('/bff/tools/list_groups')
      .flush(
        { error: 'session_expired', message: 'Sign in again.' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await expect(call).rejects.toBeTruthy();
    await settle();
    expect(session.user()).toBeNull();
    expect(session.notice()).toBe(SESSION_ENDED_MESSAGE);
    expect(navigate).toHaveBeenCalledWith('/login');
  });

  it('a late session_expired after the user signed out keeps "You are signed out."', async () => {
    const { http, session } = setupHttp(signedIn());
    const navigate = jest.spyOn(TestBed.inject(Router), 'navigateByUrl');
    const inFlight = TestBed.inject(BffClient).tool('list_groups', {});
    session.clear();
    session.notice.set('You are signed out.');
    http
      .expectOne('/bff/tools/list_groups')
      .flush(
        { error: 'session_expired', message: 'Sign in again.' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await expect(inFlight).rejects.toBeTruthy();
    await settle();
    expect(session.notice()).toBe('You are signed out.');
    expect(navigate).not.toHaveBeenCalled();
  });

  it('leaves a wrong password on the login form alone', async () => {
    const { http, session } = setupHttp({ authenticated: false, picard_sign_in_available: false });
    const navigate = jest.spyOn(TestBed.inject(Router), 'navigateByUrl');
    const call = TestBed.inject(BffClient).login({ username: 'alice', password: 'nope' });
    http
      .expectOne('/bff/auth/login')
      .flush(
        { error: 'invalid_credentials', message: 'Wrong username or password.' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await expect(call).rejects.toBeTruthy();
    expect(session.notice()).toBeNull();
    expect(navigate).not.toHaveBeenCalled();
  });

  it('does not sign out on other errors, and reports a lost connection in the banner', async () => {
    const { http, session } = setupHttp(signedIn());
    const bff = TestBed.inject(BffClient);
    const forbidden = bff.tool('submit_memory', { text: 'x', permission: 'private' });
    http
      .expectOne('/bff/tools/submit_memory')
      .flush({ error: 'permission_denied', message: 'Read-only.' }, { status: 403, statusText: 'Forbidden' });
    await expect(forbidden).rejects.toBeTruthy();
    expect(session.user()?.username).toBe('alice');

    const offline = bff.tool('list_groups', {});
    http.expectOne('/bff/tools/list_groups').error(new ProgressEvent('error'), { status: 0 });
    await expect(offline).rejects.toBeTruthy();
    expect(TestBed.inject(ErrorStore).current()?.error).toBe('network');
  });
});
