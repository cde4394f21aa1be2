import { describe, expect, it } from '@jest/globals';
import { SESSION_ENDED_MESSAGE } from './session-store';
import { setupHttp, signedIn } from '../../../testing/helpers';

describe('SessionStore', () => {
  it('asks GET /bff/session once for concurrent callers and exposes the grant', async () => {
    const { http, session } = setupHttp();
    const a = session.ensureLoaded();
    const b = session.ensureLoaded();
    http.expectOne('/bff/session').flush(signedIn({ can_write: false, is_admin: true }));
    await expect(a).resolves.toMatchObject({ authenticated: true });
    await b;
    expect(session.user()?.username).toBe('alice');
    expect(session.canWrite()).toBe(false);
    expect(session.isAdmin()).toBe(true);
    // Known now: no second request.
    await session.ensureLoaded();
    http.verify();
  });

  it('knows a signed-out visitor and whether Picard sign-in is offered', async () => {
    const { http, session } = setupHttp();
    const p = session.ensureLoaded();
    http.expectOne('/bff/session').flush({ authenticated: false, picard_sign_in_available: true });
    await p;
    expect(session.signedIn()).toBeNull();
    expect(session.canWrite()).toBe(false);
    expect(session.picardSignInAvailable()).toBe(true);
  });

  it('expire() forgets the user and leaves the message for the login page', () => {
    const { session } = setupHttp(signedIn());
    session.expire();
    expect(session.user()).toBeNull();
    expect(session.info()).toEqual({ authenticated: false, picard_sign_in_available: true });
    expect(session.notice()).toBe(SESSION_ENDED_MESSAGE);
    session.set(signedIn());
    expect(session.notice()).toBeNull();
  });
});
