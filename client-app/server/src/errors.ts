import type { ErrorRequestHandler, Request } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';

export interface ItemError {
  index: number;
  field?: string;
  message: string;
}

/** The one error shape the BFF answers with (contract: BffError), with its HTTP status. */
export class BffError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly errors?: ItemError[],
    /** Seconds, sent as Retry-After (429). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  toJSON() {
    return {
      error: this.code,
      message: this.message,
      ...(this.field ? { field: this.field } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const invalid = (field: string, message: string) =>
  new BffError(400, 'invalid_argument', message, field);
export const unauthenticated = () =>
  new BffError(401, 'unauthenticated', 'You are not signed in; please sign in.');
export const forbidden = (message: string) => new BffError(403, 'permission_denied', message);
export const notFound = (message: string) => new BffError(404, 'not_found', message);
export const picardUnavailable = () =>
  new BffError(
    503,
    'picard_unavailable',
    'Picard cannot be reached right now; please try again in a moment.',
  );
export const notRegistered = () =>
  new BffError(
    503,
    'not_configured',
    'The web app is not registered with Picard yet; the operator must run `npm run register-client -w client-app`.',
  );

/** A Picard token set that can no longer be refreshed: the session ends. */
export class SessionExpiredError extends BffError {
  constructor() {
    super(401, 'session_expired', 'Your Picard session has ended; please sign in again.');
  }
}

/** The first zod issue, naming its field: `username`, `limit`, `data.tags[0]`. */
export function fromZod(err: ZodError, prefix?: string): BffError {
  const issue = err.issues[0]!;
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = [prefix, ...issue.path.map(String), unknownKey].filter(Boolean).join('.');
  const field = path || 'body';
  const message = unknownKey
    ? `${field} is not a known field.`
    : issue.message.includes(field)
      ? issue.message
      : `${field}: ${issue.message}`;
  return new BffError(400, 'invalid_argument', message, field);
}

/** Parses with a zod schema; bad input becomes a 400 naming the field. */
export function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  value: unknown,
  prefix?: string,
): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error, prefix);
  return r.data;
}

/**
 * The last middleware: every failure answers as a BffError; anything unexpected is logged here and
 * answered without its message or stack.
 */
export function errorHandler(logger: Logger, limits: { json: string; imports: string }): ErrorRequestHandler {
  return (err: unknown, req: Request, res, _next) => {
    let e: BffError;
    const http = err as { type?: string; status?: number };
    if (err instanceof BffError) e = err;
    else if (http.type === 'entity.too.large') {
      const limit = req.path.startsWith('/bff/imports') ? limits.imports : limits.json;
      e = new BffError(
        413,
        'payload_too_large',
        `The request is larger than ${limit}; send a smaller one.`,
        'body',
      );
    } else if (http.type === 'entity.parse.failed') {
      e = invalid('body', 'The body is not valid JSON.');
    } else if (http.type === 'charset.unsupported' || http.type === 'encoding.unsupported') {
      e = new BffError(415, 'unsupported_media_type', 'Send the body as UTF-8 JSON.');
    } else {
      logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
      e = new BffError(500, 'internal', 'Something went wrong on our side; please try again.');
    }
    if (e instanceof SessionExpiredError && req.session) {
      req.session.destroy(() => {
        if (!res.headersSent) res.status(e.status).json(e.toJSON());
      });
      return;
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (e.retryAfter) res.setHeader('Retry-After', String(e.retryAfter));
    res.status(e.status).json(e.toJSON());
  };
}
