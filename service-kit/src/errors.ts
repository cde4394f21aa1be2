import { randomUUID } from 'node:crypto';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { isConnectionLost } from './connection-lost.js';

/**
 * The one error model. Domain code throws DomainError with a code; the gRPC edge turns it
 * into a status, and the gateway turns the status into HTTP or an MCP tool error, all
 * through this table so the three always agree.
 */
export const ERROR_CODES = {
  invalid_argument: { grpc: status.INVALID_ARGUMENT, http: 400 },
  unprocessable: { grpc: status.FAILED_PRECONDITION, http: 422 },
  unauthenticated: { grpc: status.UNAUTHENTICATED, http: 401 },
  permission_denied: { grpc: status.PERMISSION_DENIED, http: 403 },
  not_found: { grpc: status.NOT_FOUND, http: 404 },
  already_exists: { grpc: status.ALREADY_EXISTS, http: 409 },
  conflict: { grpc: status.ABORTED, http: 409 },
  resource_exhausted: { grpc: status.RESOURCE_EXHAUSTED, http: 429 },
  unavailable: { grpc: status.UNAVAILABLE, http: 503 },
  deadline_exceeded: { grpc: status.DEADLINE_EXCEEDED, http: 504 },
  unimplemented: { grpc: status.UNIMPLEMENTED, http: 501 },
  internal: { grpc: status.INTERNAL, http: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The input field at fault, when there is one (e.g. "text", "memories[3].permission"). */
    readonly field?: string,
    readonly opts: {
      /** Correlation id of an internal failure: the client sees it, the log line of the full error has it. */
      errorId?: string;
      /** The message is not fit for clients (a transport or library failure): publicError hides it. */
      hidden?: boolean;
    } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get errorId(): string | undefined {
    return this.opts.errorId;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }
}

/** Past a rate limit: resource_exhausted (HTTP 429 with Retry-After), saying when to try again. */
export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('resource_exhausted', message);
    this.name = 'RateLimitedError';
  }
}

export const invalid = (field: string, message: string) =>
  new DomainError('invalid_argument', message, field);
export const notFound = (message: string) => new DomainError('not_found', message);
export const forbidden = (message: string) => new DomainError('permission_denied', message);
export const unauthenticated = (message: string) => new DomainError('unauthenticated', message);
/** For contract calls a later issue implements: the caller learns which issue. */
export const notYet = (what: string, issue: number) =>
  new DomainError('unimplemented', `${what} is not implemented yet (issue #${issue})`);

const CODE_KEY = 'x-error-code';
const FIELD_KEY = 'x-error-field';
const RETRY_KEY = 'x-retry-after';
const ID_KEY = 'x-error-id';

const GENERIC: Partial<Record<ErrorCode, string>> = {
  unavailable: 'a service is unavailable',
  deadline_exceeded: 'a service did not answer in time',
};

/**
 * What a client may be told about a failure. Domain errors pass as they are; anything else (a
 * thrown Error, an `internal` DomainError, a transport failure) becomes a generic message with a
 * fresh correlation id, and `log` is true: the edge must log the full error with that id (a lost
 * database connection is `unavailable`, the rest `internal`). An
 * internal error a service already reported keeps its id (the service logged it).
 */
export function publicError(err: unknown): { error: DomainError; errorId?: string; log: boolean } {
  if (err instanceof DomainError && !err.opts.hidden && (err.code !== 'internal' || err.errorId)) {
    return { error: err, errorId: err.errorId, log: false };
  }
  const code = err instanceof DomainError ? err.code : isConnectionLost(err) ? 'unavailable' : 'internal';
  const errorId = randomUUID();
  const message = `${GENERIC[code] ?? 'internal error'} (error id ${errorId})`;
  return { error: new DomainError(code, message, undefined, { errorId }), errorId, log: true };
}

/** The gRPC edge: a ServiceError from a DomainError made public (see publicError; log before). */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const domain = publicError(err).error;
  const metadata = new Metadata();
  metadata.set(CODE_KEY, domain.code);
  if (domain.field) metadata.set(FIELD_KEY, domain.field);
  if (domain instanceof RateLimitedError) metadata.set(RETRY_KEY, String(domain.retryAfterSeconds));
  if (domain.errorId) metadata.set(ID_KEY, domain.errorId);
  // A message quoting input may hold a lone surrogate, which grpc-js cannot encode (the call would
  // never end); replaced by U+FFFD.
  return { code: ERROR_CODES[domain.code].grpc, details: domain.message.toWellFormed(), metadata };
}

const byGrpcStatus = new Map<number, ErrorCode>(
  (Object.entries(ERROR_CODES) as [ErrorCode, { grpc: number }][])
    .filter(([code]) => code !== 'unprocessable')
    .map(([code, v]) => [v.grpc, code]),
);

/** The client side: a failed call becomes the DomainError the server threw. */
export function fromServiceError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  const e = err as Partial<ServiceError>;
  if (typeof e?.code !== 'number') {
    return new DomainError('internal', String((err as Error)?.message ?? err), undefined, { hidden: true });
  }
  const sent = e.metadata?.get(CODE_KEY)[0];
  const ours = typeof sent === 'string' && sent in ERROR_CODES;
  const code = ours ? (sent as ErrorCode) : (byGrpcStatus.get(e.code) ?? 'internal');
  const field = e.metadata?.get(FIELD_KEY)[0];
  const errorId = e.metadata?.get(ID_KEY)[0];
  const message = e.details || e.message || code;
  const retry = Number(e.metadata?.get(RETRY_KEY)[0]);
  if (ours && code === 'resource_exhausted' && Number.isInteger(retry) && retry > 0) {
    return new RateLimitedError(message, retry);
  }
  // Without our code the status came from gRPC itself (connection refused, deadline...): its
  // details name internal addresses, so they stay in the logs.
  return new DomainError(code, message, typeof field === 'string' ? field : undefined, {
    errorId: typeof errorId === 'string' ? errorId : undefined,
    hidden: !ours,
  });
}
