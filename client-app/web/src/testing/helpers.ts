/** Test helpers shared by the specs (not part of the app build). */
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import type { Provider } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import type { Memory, SessionInfo } from '@contract/bff-api';
import { sessionExpiredInterceptor } from '../app/core/interceptors/session-expired.interceptor';
import { SessionStore } from '../app/core/session/session-store';

export const ME = '11111111-1111-4111-8111-111111111111';
export const BOB = '22222222-2222-4222-8222-222222222222';

export function signedIn(overrides: { can_write?: boolean; is_admin?: boolean } = {}): SessionInfo {
  return {
    authenticated: true,
    user: {
      id: 'web-1',
      username: 'alice',
      email: 'alice@example.com',
      picard_user_id: ME,
      sign_in: 'password',
    },
    scopes: overrides.can_write === false ? ['memories:read'] : ['memories:read', 'memories:write'],
    can_write: overrides.can_write ?? true,
    is_admin: overrides.is_admin ?? false,
  };
}

export function memory(overrides: Partial<Memory> = {}): Memory {
  return {
    id: overrides.id ?? 'aaaaaaaa-0000-4000-8000-000000000001',
    user_id: ME,
    text: 'A memory',
    permission: 'private',
    expiration_date: null,
    created_at: '2026-01-02T10:00:00.000Z',
    updated_at: '2026-01-02T10:00:00.000Z',
    tags: [],
    shared_with: { users: [], groups: [] },
    embedding_pending: false,
    ...overrides,
  };
}

/** HttpClient against HttpTestingController, the app's interceptor, an empty router. */
export function setupHttp(
  session?: SessionInfo,
  providers: Provider[] = [],
): { http: HttpTestingController; session: SessionStore } {
  TestBed.configureTestingModule({
    providers: [
      provideRouter([{ path: '**', children: [] }]),
      provideHttpClient(withInterceptors([sessionExpiredInterceptor])),
      provideHttpClientTesting(),
      ...providers,
    ],
  });
  const store = TestBed.inject(SessionStore);
  if (session) store.set(session);
  return { http: TestBed.inject(HttpTestingController), session: store };
}

/** Lets pending promise callbacks (and the requests they make) run. */
export const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
