/**
 * POST /bff/personas/{user_id}/ask streams AskEvents as NDJSON. HttpClient does not hand out a
 * stream, so this uses fetch, adding the X-XSRF-TOKEN header itself (read from the XSRF-TOKEN
 * cookie, which is not a credential) and handling a 401 like the HTTP interceptor does.
 */
import { Injectable, inject } from '@angular/core';
import { Router } from '@angular/router';
import type { AskEvent, AskRequest, BffError } from '@contract/bff-api';
import { SESSION_ENDED_MESSAGE, SessionStore } from '../../../core/session/session-store';
import { NdjsonLineError, readNdjson } from './ndjson';

export function xsrfToken(cookies: string): string | null {
  for (const part of cookies.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'XSRF-TOKEN') return decodeURIComponent(value.join('='));
  }
  return null;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The events of one ask; failures (HTTP, network, bad lines) arrive as one `error` event. */
export async function* askEvents(
  fetchFn: FetchLike,
  userId: string,
  request: AskRequest,
  cookies: string,
  signal?: AbortSignal,
): AsyncGenerator<AskEvent> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/x-ndjson',
  };
  const token = xsrfToken(cookies);
  if (token) headers['X-XSRF-TOKEN'] = token;
  let response: Response;
  try {
    response = await fetchFn(`/bff/personas/${encodeURIComponent(userId)}/ask`, {
      method: 'POST',
      headers,
      body: JSON.stringify(request),
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') return;
    yield {
      type: 'error',
      error: {
        error: 'network',
        message: 'The server cannot be reached. Check your connection and try again.',
      },
    };
    return;
  }
  if (!response.ok || !response.body) {
    yield { type: 'error', error: await errorOf(response) };
    return;
  }
  try {
    yield* readNdjson<AskEvent>(response.body.getReader());
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') return;
    const message =
      err instanceof NdjsonLineError ? err.message : 'The answer was cut off. Try asking again.';
    yield { type: 'error', error: { error: 'stream_failed', message } };
  }
}

async function errorOf(response: Response): Promise<BffError> {
  try {
    const body = (await response.json()) as Partial<BffError>;
    if (typeof body.error === 'string' && typeof body.message === 'string') return body as BffError;
  } catch {
    // not JSON
  }
  return { error: `http_${response.status}`, message: `Asking failed (HTTP ${response.status}). Try again.` };
}

@Injectable({ providedIn: 'root' })
export class AskStream {
  private readonly session = inject(SessionStore);
  private readonly router = inject(Router);

  async *ask(userId: string, request: AskRequest, signal?: AbortSignal): AsyncGenerator<AskEvent> {
    for await (const event of askEvents(
      (i, init) => fetch(i, init),
      userId,
      request,
      document.cookie,
      signal,
    )) {
      if (
        event.type === 'error' &&
        (event.error.error === 'session_expired' || event.error.error === 'unauthenticated')
      ) {
        this.session.expire(SESSION_ENDED_MESSAGE);
        void this.router.navigateByUrl('/login');
      }
      yield event;
    }
  }
}
