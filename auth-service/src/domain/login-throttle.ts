import { RateLimiterRes, type RateLimiterPostgres } from 'rate-limiter-flexible';
import { boundedKey, pgRateLimiter, RateLimitedError, sourceKey, type Knex } from '@picard/service-kit';

export interface LoginLimits {
  /** Failures per account from one source before that pair pauses. */
  maxPerAccount: number;
  /** Failures per source (any accounts) before the source pauses for a window. */
  maxPerIp: number;
  windowSeconds: number;
}

/** The first pause of an account from one source; each further failure there doubles it, up to an hour. */
const FIRST_PAUSE_SECONDS = 30;
const MAX_PAUSE_SECONDS = 3600;
/** How long a pause is remembered for the doubling: a day without failures starts over. */
const PAUSE_MEMORY_SECONDS = 24 * 3600;

const tooMany = (res: RateLimiterRes) =>
  new RateLimitedError(
    `too many attempts, try again in ${Math.max(1, Math.ceil(res.msBeforeNext / 1000))} s`,
    Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  );

/**
 * Failed-login counters in auth-service's database (rate-limiter-flexible, RateLimiterPostgres), so
 * every instance counts together and a restart forgets nothing.
 *
 * An account is throttled per source (an IPv4 address or an IPv6 /64), never as a whole: failures
 * from one source pause that source's attempts at that account with growing delays, while the
 * owner signs in from anywhere else. A source that fails too often on any accounts pauses for a
 * window. A distributed guesser is slowed per source only; strong passwords are what stop it.
 */
export class LoginThrottle {
  private readonly perSource: RateLimiterPostgres;
  private readonly perAccount: RateLimiterPostgres;
  private readonly pauses: RateLimiterPostgres;

  constructor(
    knex: Knex,
    private readonly limits: LoginLimits,
  ) {
    const window = limits.windowSeconds;
    this.perSource = pgRateLimiter(knex, {
      keyPrefix: 'login.src',
      points: limits.maxPerIp,
      duration: window,
      sweep: true,
    });
    this.perAccount = pgRateLimiter(knex, {
      keyPrefix: 'login.acct',
      points: limits.maxPerAccount,
      duration: window,
    });
    this.pauses = pgRateLimiter(knex, {
      keyPrefix: 'login.pause',
      points: 1_000_000,
      duration: PAUSE_MEMORY_SECONDS,
    });
  }

  private static keys(username: string, ip: string) {
    const source = sourceKey(ip);
    return { source, account: `${boundedKey(username.toLowerCase())}|${source}` };
  }

  /** Refuses before any password work while this source, or this account from this source, is paused. */
  async assertAllowed(username: string, ip: string): Promise<void> {
    const { source, account } = LoginThrottle.keys(username, ip);
    const [bySource, byAccount] = await Promise.all([
      ip ? this.perSource.get(source) : null,
      this.perAccount.get(account),
    ]);
    const over = [
      bySource && bySource.consumedPoints > this.limits.maxPerIp ? bySource : undefined,
      byAccount && byAccount.consumedPoints > this.limits.maxPerAccount ? byAccount : undefined,
    ]
      .filter((r): r is RateLimiterRes => r !== undefined)
      .sort((x, y) => y.msBeforeNext - x.msBeforeNext);
    if (over[0]) throw tooMany(over[0]);
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    const { source, account } = LoginThrottle.keys(username, ip);
    // Without an address (a caller inside the deployment) only the account counts.
    if (ip) {
      const bySource = await this.perSource.consume(source).catch(spent);
      if (bySource.consumedPoints >= this.limits.maxPerIp)
        await this.perSource.block(source, this.limits.windowSeconds);
    }

    const byAccount = await this.perAccount.consume(account).catch(spent);
    const pausedBefore = await this.pauses.get(account);
    // Once paused, every further failure pauses again, each time twice as long.
    if (byAccount.consumedPoints >= this.limits.maxPerAccount || pausedBefore) {
      const n = (await this.pauses.consume(account).catch(spent)).consumedPoints;
      await this.perAccount.block(account, Math.min(FIRST_PAUSE_SECONDS * 2 ** (n - 1), MAX_PAUSE_SECONDS));
    }
  }

  /** A successful login clears this account's counters for this source (not the source's own). */
  async recordSuccess(username: string, ip: string): Promise<void> {
    const { account } = LoginThrottle.keys(username, ip);
    await Promise.all([this.perAccount.delete(account), this.pauses.delete(account)]);
  }
}

/** The library rejects consume() with a RateLimiterRes once over the points: still a count for us. */
function spent(err: unknown): RateLimiterRes {
  if (err instanceof RateLimiterRes) return err;
  throw err;
}
