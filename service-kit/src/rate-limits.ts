import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from './errors.js';
import { knexPgClient } from './knex-pg-client.js';

/** One table for every limiter of a service; the key prefix names the limiter. */
export const RATE_LIMIT_TABLE = 'rate_limits';

/** rate-limiter-flexible's RateLimiterPostgres table shape, for a service's migration. */
export async function createRateLimitTable(knex: Knex): Promise<void> {
  await knex.schema.createTable(RATE_LIMIT_TABLE, (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire').nullable();
  });
}

export interface PgLimiterOptions {
  /** Names the limiter inside the shared table; keys are stored as `<prefix>:<key>`. */
  keyPrefix: string;
  points: number;
  /** Seconds of the counting window. */
  duration: number;
  /** Seconds a key stays refused once over its points (0: only until the window ends). */
  blockDuration?: number;
  /** Deletes long-expired rows every few minutes; one limiter per process is enough. */
  sweep?: boolean;
}

/** A counter in the service's own database, so every instance of the service shares it. */
export function pgRateLimiter(knex: Knex, opts: PgLimiterOptions): RateLimiterPostgres {
  return new RateLimiterPostgres({
    storeClient: knexPgClient(knex),
    storeType: 'client',
    tableName: RATE_LIMIT_TABLE,
    tableCreated: true,
    clearExpiredByTimeout: opts.sweep ?? false,
    keyPrefix: opts.keyPrefix,
    points: opts.points,
    duration: opts.duration,
    blockDuration: opts.blockDuration ?? 0,
  });
}

/** "42 s" or "3 min": how long to wait, for messages. */
export const waitText = (seconds: number) =>
  seconds >= 120 ? `${Math.ceil(seconds / 60)} min` : `${seconds} s`;

/** The library rejects with a RateLimiterRes when a limit is reached: that becomes a RateLimitedError. */
export function rateLimited(res: RateLimiterRes, message: (wait: string) => string): RateLimitedError {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new RateLimitedError(message(waitText(seconds)), seconds);
}

/** Consumes one point; a spent budget throws the RateLimitedError `message` describes. */
export async function consumeOrThrow(
  limiter: RateLimiterPostgres,
  key: string,
  message: (wait: string) => string,
): Promise<RateLimiterRes> {
  try {
    return await limiter.consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw rateLimited(err, message);
    throw err;
  }
}

/** Short keys stay readable; longer ones are hashed, so no caller-chosen string grows a row. */
export function boundedKey(part: string, max = 64): string {
  return part.length <= max ? part : `#${createHash('sha256').update(part).digest('base64url')}`;
}

/**
 * The source a limit counts: an IPv4 address, or the /64 network of an IPv6 one (one subscriber
 * usually holds a whole /64, so its addresses are one source). Unparseable input is hashed.
 */
export function sourceKey(address: string): string {
  const raw = address.trim();
  if (!raw) return 'unknown';
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(raw.replace(/%.*$/, ''));
  } catch {
    return boundedKey(`?${raw}`, 0);
  }
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4).concat([0, 0, 0, 0]);
  return `${new ipaddr.IPv6(parts).toRFC5952String()}/64`;
}
