/**
 * Who is signed in, as GET /bff/session says: a signal every page reads. The session itself is an
 * HttpOnly cookie the page never sees; nothing here is stored in the browser.
 */
import { Injectable, computed, inject, signal } from '@angular/core';
import type { SessionInfo, SessionUser } from '@contract/bff-api';
import { BffClient } from '../api/bff-client';

export const SESSION_ENDED_MESSAGE = 'Your Picard session has ended; please sign in again.';

type SignedIn = Extract<SessionInfo, { authenticated: true }>;

@Injectable({ providedIn: 'root' })
export class SessionStore {
  private readonly bff = inject(BffClient);
  private loading: Promise<SessionInfo> | null = null;

  /** null until the first GET /bff/session answered. */
  readonly info = signal<SessionInfo | null>(null);
  /** Said once on the login page (session ended, signed out). */
  readonly notice = signal<string | null>(null);

  readonly signedIn = computed<SignedIn | null>(() => {
    const info = this.info();
    return info?.authenticated ? info : null;
  });
  readonly user = computed<SessionUser | null>(() => this.signedIn()?.user ?? null);
  readonly canWrite = computed(() => this.signedIn()?.can_write ?? false);
  readonly isAdmin = computed(() => this.signedIn()?.is_admin ?? false);
  readonly picardSignInAvailable = computed(() => {
    const info = this.info();
    return info ? (info.authenticated ? true : info.picard_sign_in_available) : false;
  });

  /** The session, asked for once (concurrent callers share the request). */
  ensureLoaded(): Promise<SessionInfo> {
    const known = this.info();
    if (known) return Promise.resolve(known);
    return this.refresh();
  }

  refresh(): Promise<SessionInfo> {
    this.loading ??= this.bff
      .session()
      .then((info) => {
        this.info.set(info);
        return info;
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  /** After sign-up or login: the body is the new SessionInfo. */
  set(info: SessionInfo): void {
    this.notice.set(null);
    this.info.set(info);
  }

  /** The BFF said the session is gone: forget it and leave a message for the login page. */
  expire(message = SESSION_ENDED_MESSAGE): void {
    this.clear();
    this.notice.set(message);
  }

  clear(): void {
    this.info.set({ authenticated: false, picard_sign_in_available: this.picardSignInAvailable() });
  }
}
