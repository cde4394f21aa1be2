/**
 * A 401 from the BFF means the session is gone (session_expired: Picard's refresh token died;
 * unauthenticated: the cookie expired). Forget the session, go to /login and say why. A network
 * failure goes to the global banner, since no page can show it better.
 */
import { HttpErrorResponse, type HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { catchError, throwError } from 'rxjs';
import { ErrorStore } from '../errors/error-store';
import { toBffError } from '../errors/bff-error';
import { SESSION_ENDED_MESSAGE, SessionStore } from '../session/session-store';

const SIGN_IN_CALLS = ['/bff/auth/login', '/bff/auth/signup', '/bff/session', '/bff/account/deactivate'];

export const sessionExpiredInterceptor: HttpInterceptorFn = (req, next) => {
  const session = inject(SessionStore);
  const router = inject(Router);
  const errors = inject(ErrorStore);
  return next(req).pipe(
    catchError((err: unknown) => {
      if (err instanceof HttpErrorResponse && req.url.startsWith('/bff/')) {
        const code = toBffError(err).error;
        // Only a session the page still holds can end: a late answer to a request that was in flight
        // while the user logged out must not replace "You are signed out." with another reason.
        if (err.status === 401 && session.signedIn() && !SIGN_IN_CALLS.some((u) => req.url.startsWith(u))) {
          if (code === 'session_expired') {
            session.expire(SESSION_ENDED_MESSAGE);
            void router.navigateByUrl('/login');
          } else if (code === 'unauthenticated') {
            session.expire('You are signed out; please sign in again.');
            void router.navigateByUrl('/login');
          }
        } else if (err.status === 0) {
          errors.report(toBffError(err));
        }
      }
      return throwError(() => err);
    }),
  );
};
