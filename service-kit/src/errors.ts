import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

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
  ) {
    super(message);
    this.name = 'DomainError';
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

/** The gRPC edge: any thrown value becomes a ServiceError; unknown errors are hidden as internal. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const domain = err instanceof DomainError ? err : new DomainError('internal', 'internal error');
  const metadata = new Metadata();
  metadata.set(CODE_KEY, domain.code);
  if (domain.field) metadata.set(FIELD_KEY, domain.field);
  if (domain instanceof RateLimitedError) metadata.set(RETRY_KEY, String(domain.retryAfterSeconds));
  return { code: ERROR_CODES[domain.code].grpc, details: domain.message, metadata };
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
  if (typeof e?.code !== 'number') return new DomainError('internal', String((err as Error)?.message ?? err));
  const sent = e.metadata?.get(CODE_KEY)[0];
  const code =
    typeof sent === 'string' && sent in ERROR_CODES
      ? (sent as ErrorCode)
      : (byGrpcStatus.get(e.code) ?? 'internal');
  const field = e.metadata?.get(FIELD_KEY)[0];
  const message = e.details || e.message || code;
  const retry = Number(e.metadata?.get(RETRY_KEY)[0]);
  if (code === 'resource_exhausted' && Number.isInteger(retry) && retry > 0) {
    return new RateLimitedError(message, retry);
  }
  return new DomainError(code, message, typeof field === 'string' ? field : undefined);
}
