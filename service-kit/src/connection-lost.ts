/**
 * Failures that mean the database (or another server) went away under a request: restarted,
 * failing over, not accepting connections. They are `unavailable` to the caller (retry later), not
 * an internal error: nothing is wrong with the request or the code.
 */
const LOST_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  '57P01', // PostgreSQL: terminating connection due to administrator command (a restart)
  '57P02', // crash shutdown
  '57P03', // the database system is starting up / shutting down
  '08000', // connection exception
  '08001', // could not establish a connection
  '08003', // connection does not exist
  '08006', // connection failure
]);
const LOST_MESSAGES =
  /Connection terminated|Client has encountered a connection error|Timeout acquiring a connection|the database system is (starting up|shutting down)/;

export function isConnectionLost(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code } = e as { code?: unknown };
    if (typeof code === 'string' && LOST_CODES.has(code)) return true;
    if (e instanceof AggregateError && e.errors.some(isConnectionLost)) return true;
    if (e instanceof Error && LOST_MESSAGES.test(e.message)) return true;
  }
  return false;
}
