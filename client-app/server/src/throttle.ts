import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { knexPgClient } from '@picard/service-kit/knex-pg-client';
import { BffError } from './errors.js';

export interface ThrottleLimits {
  /** Wrong passwords per username and address before a pause (then pauses grow: 1, 2, 4... min, ≤ 1 h). */
  maxFailures: number;
  /** Wrong passwords per address per hour before a 15-minute pause. */
  maxFailuresPerIp: number;
  signupsPerIpPerHour: number;
}

const tooMany = (res: RateLimiterRes, what: string) => {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
  return new BffError(
    429,
    'rate_limited',
    `Too many ${what}; try again in ${wait}.`,
    undefined,
    undefined,
    seconds,
  );
};

/** Login throttling kept in the BFF's database, so it holds across restarts and instances. */
export class LoginThrottle {
  private readonly userIp: RateLimiterPostgres;
  private readonly ip: RateLimiterPostgres;
  private readonly blocks: RateLimiterPostgres;
  private readonly signups: RateLimiterPostgres;

  constructor(
    knex: Knex,
    schema: string,
    private readonly limits: ThrottleLimits,
  ) {
    const common = {
      storeClient: knexPgClient(knex),
      storeType: 'client',
      schemaName: schema,
      tableCreated: true,
      clearExpiredByTimeout: false,
    };
    this.userIp = new RateLimiterPostgres({
      ...common,
      tableName: 'throttle_login_user_ip',
      keyPrefix: 'u',
      points: limits.maxFailures,
      duration: 15 * 60,
    });
    this.ip = new RateLimiterPostgres({
      ...common,
      tableName: 'throttle_login_ip',
      keyPrefix: 'i',
      points: limits.maxFailuresPerIp,
      duration: 3600,
      blockDuration: 15 * 60,
    });
    this.blocks = new RateLimiterPostgres({
      ...common,
      tableName: 'throttle_login_blocks',
      keyPrefix: 'b',
      points: 1_000_000,
      duration: 24 * 3600,
    });
    this.signups = new RateLimiterPostgres({
      ...common,
      tableName: 'throttle_signup_ip',
      keyPrefix: 's',
      points: limits.signupsPerIpPerHour,
      duration: 3600,
    });
  }

  private static key(username: string, ip: string) {
    return `${username.toLowerCase()}|${ip}`;
  }

  /** Refuses while this username+address or this address is paused. */
  async check(username: string, ip: string): Promise<void> {
    const [byUser, byIp] = await Promise.all([
      this.userIp.get(LoginThrottle.key(username, ip)),
      this.ip.get(ip),
    ]);
    if (byUser && byUser.consumedPoints > this.limits.maxFailures) throw tooMany(byUser, 'failed sign-ins');
    if (byIp && byIp.consumedPoints > this.limits.maxFailuresPerIp) throw tooMany(byIp, 'failed sign-ins');
  }

  /** Counts a wrong password; throws 429 when this one crossed a limit. */
  async failed(username: string, ip: string): Promise<void> {
    const key = LoginThrottle.key(username, ip);
    try {
      await this.ip.consume(ip);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooMany(err, 'failed sign-ins');
      throw err;
    }
    try {
      await this.userIp.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const n = (await this.blocks.consume(key)).consumedPoints;
      const seconds = Math.min(60 * 2 ** (n - 1), 3600);
      throw tooMany(await this.userIp.block(key, seconds), 'failed sign-ins');
    }
  }

  async succeeded(username: string, ip: string): Promise<void> {
    await this.userIp.delete(LoginThrottle.key(username, ip));
  }

  async signup(ip: string): Promise<void> {
    try {
      await this.signups.consume(ip);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooMany(err, 'sign-ups from your address');
      throw err;
    }
  }
}
