import { RateLimiterRes, type RateLimiterPostgres } from 'rate-limiter-flexible';
import { invalid, pgRateLimiter, type Knex } from '@picard/service-kit';

export interface ConsumeInput {
  limit: string;
  key: string;
  points: number;
  windowSeconds: number;
}

export interface ConsumeResult {
  allowed: boolean;
  retryAfterSeconds: number;
  remaining: number;
}

const LIMIT_NAME = /^[a-z0-9_.-]{1,40}$/;
const MAX_KEY = 200;
/** Distinct (limit, points, window) triples kept as limiter objects; the gateway uses a handful. */
const MAX_LIMITERS = 100;

/**
 * The gateway's rate limits, counted in this service's database so every gateway instance shares
 * them. The gateway names the limit and its budget; the counters live under `gw.<limit>` keys,
 * apart from the login throttle's.
 */
export class RateLimitService {
  private readonly limiters = new Map<string, RateLimiterPostgres>();

  constructor(private readonly knex: Knex) {}

  async consume(input: ConsumeInput): Promise<ConsumeResult> {
    if (!LIMIT_NAME.test(input.limit))
      throw invalid('limit', 'limit must be 1 to 40 of a-z, 0-9, "_", "." and "-"');
    if (!input.key || input.key.length > MAX_KEY)
      throw invalid('key', `key must be 1 to ${MAX_KEY} characters`);
    if (!Number.isInteger(input.points) || input.points < 1 || input.points > 1_000_000) {
      throw invalid('points', 'points must be a whole number from 1 to 1000000');
    }
    if (!Number.isInteger(input.windowSeconds) || input.windowSeconds < 1 || input.windowSeconds > 86_400) {
      throw invalid('window_seconds', 'window_seconds must be a whole number from 1 to 86400');
    }
    const limiter = this.limiter(input);
    try {
      const res = await limiter.consume(input.key);
      return { allowed: true, retryAfterSeconds: 0, remaining: res.remainingPoints };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
        remaining: 0,
      };
    }
  }

  private limiter({ limit, points, windowSeconds }: ConsumeInput): RateLimiterPostgres {
    const id = `${limit}|${points}|${windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      if (this.limiters.size >= MAX_LIMITERS) this.limiters.clear();
      limiter = pgRateLimiter(this.knex, { keyPrefix: `gw.${limit}`, points, duration: windowSeconds });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
