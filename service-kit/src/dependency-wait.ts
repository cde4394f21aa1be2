import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Network failures that mean "not up yet" (refused, reset, not resolvable yet, timed out) rather
 * than "configured wrong": in a cluster every service may start before the ones it needs
 * (Render starts them in any order; compose's depends_on waits for nothing).
 */
const NOT_UP_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECTION_REFUSED', // nats.js
  '57P03', // PostgreSQL: the database system is starting up
]);
const NOT_UP_GRPC = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED]);

/** Whether `err` (or an error it wraps) says the other side is not reachable yet. */
export function isNotUpYet(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DomainError) return e.code === 'unavailable';
    const { code } = e as { code?: unknown };
    if (typeof code === 'string' && NOT_UP_CODES.has(code)) return true;
    if (typeof code === 'number' && NOT_UP_GRPC.has(code)) return true;
    if (e instanceof AggregateError && e.errors.some(isNotUpYet)) return true;
    // pg's wording when the server goes away during the connection handshake.
    if (e instanceof Error && /Connection terminated unexpectedly/.test(e.message)) return true;
  }
  return false;
}

export interface DependencyWaitOptions {
  logger: Logger;
  /** First pause between attempts, doubled each time up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Which failures are worth waiting out (default isNotUpYet); any other one is thrown at once. */
  retryable?: (err: unknown) => boolean;
  /** Tells the caller (health reporting) what it is waiting for; called with undefined when done. */
  onWaiting?: (what: string | undefined) => void;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Stops waiting (the service is being shut down): the last failure is thrown. */
  signal?: AbortSignal;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `attempt` until it succeeds, waiting with backoff while `what` is not up yet and saying so
 * in the log (the first failure, then about every 30 s). A service never exits because a service
 * it needs has not started; it does exit on a failure that waiting cannot fix.
 */
export async function waitForDependency<T>(
  what: string,
  attempt: () => Promise<T>,
  opts: DependencyWaitOptions,
): Promise<T> {
  const { logger, initialDelayMs = 250, maxDelayMs = 5_000, sleep = realSleep } = opts;
  const retryable = opts.retryable ?? isNotUpYet;
  let delay = initialDelayMs;
  let waitedMs = 0;
  let lastLogAt = -Infinity;
  for (let n = 1; ; n++) {
    try {
      const value = await attempt();
      if (n > 1) {
        logger.info({ dependency: what, attempts: n, waitedMs }, `${what} is up`);
        opts.onWaiting?.(undefined);
      }
      return value;
    } catch (err) {
      if (!retryable(err) || opts.signal?.aborted) throw err;
      if (n === 1) opts.onWaiting?.(what);
      if (waitedMs - lastLogAt >= 30_000) {
        lastLogAt = waitedMs;
        logger.warn(
          { dependency: what, attempt: n, retryInMs: delay, reason: (err as Error).message },
          `waiting for ${what}: not reachable yet, retrying`,
        );
      }
      await sleep(delay);
      waitedMs += delay;
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}
