import { HttpErrorResponse } from '@angular/common/http';
import type { BffError } from '@contract/bff-api';

export type { BffError };

function isBffError(value: unknown): value is BffError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BffError).error === 'string' &&
    typeof (value as BffError).message === 'string'
  );
}

const BY_STATUS: Record<number, string> = {
  400: 'That input was not accepted. Check the fields and try again.',
  401: 'You are not signed in. Please sign in again.',
  403: 'You are not allowed to do that.',
  404: 'That was not found; it may have been deleted.',
  409: 'That conflicts with something that already exists.',
  413: 'That is too large.',
  429: 'Too many attempts. Wait a moment and try again.',
  502: 'Picard cannot be reached right now. Try again in a moment.',
  503: 'Picard cannot be reached right now. Try again in a moment.',
};

/** Any failure (HTTP error, network loss, thrown value) as the contract's BffError, never a raw stack. */
export function toBffError(err: unknown): BffError {
  if (isBffError(err)) return err;
  if (err instanceof HttpErrorResponse) {
    if (isBffError(err.error)) return err.error;
    if (err.status === 0) {
      return {
        error: 'network',
        message: 'The server cannot be reached. Check your connection and try again.',
      };
    }
    return {
      error: `http_${err.status}`,
      message: BY_STATUS[err.status] ?? `Something went wrong (HTTP ${err.status}). Try again.`,
    };
  }
  return { error: 'internal', message: 'Something went wrong in the page. Reload it and try again.' };
}

/**
 * Whether `error` names the input `field`: the BFF says `password`, tools say `tags[0]` or
 * `data.tags[0]`, both of which belong to the form field `tags`.
 */
export function fieldAtFault(error: BffError | null | undefined, field: string): boolean {
  const f = error?.field?.replace(/^data\./, '');
  if (!f) return false;
  return f === field || f.startsWith(`${field}[`) || f.startsWith(`${field}.`);
}
