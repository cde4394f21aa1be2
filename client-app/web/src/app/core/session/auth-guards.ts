import { inject } from '@angular/core';
import { type CanActivateFn, Router } from '@angular/router';
import { ErrorStore } from '../errors/error-store';
import { toBffError } from '../errors/bff-error';
import { SessionStore } from './session-store';

/** Signed-in pages: anyone else goes to /login. */
export const authGuard: CanActivateFn = async () => {
  const session = inject(SessionStore);
  const router = inject(Router);
  const errors = inject(ErrorStore);
  try {
    const info = await session.ensureLoaded();
    return info.authenticated ? true : router.parseUrl('/login');
  } catch (err) {
    errors.report(toBffError(err));
    return router.parseUrl('/login');
  }
};

/** /login and /signup: a signed-in person goes to their memories. */
export const guestGuard: CanActivateFn = async () => {
  const session = inject(SessionStore);
  const router = inject(Router);
  try {
    const info = await session.ensureLoaded();
    return info.authenticated ? router.parseUrl('/memories') : true;
  } catch {
    return true;
  }
};
