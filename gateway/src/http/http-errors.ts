import type { Request, Response } from 'express';
import {
  DomainError,
  fromServiceError,
  publicError,
  RateLimitedError,
  type Logger,
} from '@picard/service-kit';
import type { ZodError } from 'zod';
import { BatchError } from '../mcp/tools/batch-error.js';

/** The app's logger (createApp puts it in app.locals), for errors logged where they are answered. */
export const appLogger = (res: Response) => res.app?.locals.logger as Logger | undefined;

/**
 * The error a client may see: a domain error as it is; anything else generic, with a correlation
 * id that the log line holding the full error carries too (see service-kit publicError).
 */
export function publicFailure(err: unknown, logger: Logger | undefined): DomainError {
  const shown = publicError(err instanceof DomainError ? err : fromServiceError(err));
  if (shown.log) logger?.error({ err, errorId: shown.errorId }, 'request failed');
  return shown.error;
}

/**
 * The HTTP face of the error model: `{error, message, field?}` with the status from the one table;
 * a refused batch adds `errors`, one per item at fault.
 */
export function sendError(res: Response, err: unknown): void {
  if (err instanceof BatchError) {
    res.status(err.httpStatus).json(err.toJSON());
    return;
  }
  const domain = publicFailure(err, appLogger(res));
  if (domain instanceof RateLimitedError) res.setHeader('Retry-After', String(domain.retryAfterSeconds));
  const body: Record<string, string> = { error: domain.code, message: domain.message };
  if (domain.field) body.field = domain.field;
  res.status(domain.httpStatus).json(body);
}

/** The first zod issue as a DomainError naming its field path, e.g. `data.limit`. */
export function fromZodError(err: ZodError, prefix?: string): DomainError {
  const issue = err.issues[0]!;
  // An unknown key is named itself, so a typo ("permision") points at the culprit.
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = [prefix, ...issue.path.map(String), unknownKey].filter(Boolean).join('.');
  const field = path || 'body';
  const message = unknownKey ? `unknown field "${unknownKey}"` : issue.message;
  return new DomainError('invalid_argument', `${field}: ${message}`, field);
}

/** Wraps a route handler so any failure is answered through the one error mapping. */
export const handled =
  (fn: (req: Request, res: Response) => Promise<void>) =>
  async (req: Request, res: Response): Promise<void> => {
    try {
      await fn(req, res);
    } catch (err) {
      sendError(res, err);
    }
  };
