import { DomainError } from '@picard/service-kit';

export interface LoginLimits {
  maxPerAccount: number;
  maxPerIp: number;
  windowSeconds: number;
}

const MAX_KEYS = 100_000;

/**
 * Failed-login counters per account and per remote IP, in a sliding window. They live in this
 * instance's memory: with N instances behind a balancer an attacker gets up to N times the budget,
 * and a restart forgets them. That is the trade-off accepted for now (a shared store would fix it).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: LoginLimits) {}

  /** Refuses before any password work when either key is over its budget. */
  assertAllowed(username: string, ip: string, now = Date.now()): void {
    const waits = [
      this.waitFor(`u:${username.toLowerCase()}`, this.limits.maxPerAccount, now),
      ip ? this.waitFor(`ip:${ip}`, this.limits.maxPerIp, now) : 0,
    ];
    const wait = Math.max(...waits);
    if (wait > 0) throw new DomainError('resource_exhausted', `too many attempts, try again in ${wait} s`);
  }

  recordFailure(username: string, ip: string, now = Date.now()): void {
    this.push(`u:${username.toLowerCase()}`, now);
    if (ip) this.push(`ip:${ip}`, now);
  }

  /** A successful login clears the account's counter (not the IP's: one good password proves little). */
  recordSuccess(username: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
  }

  private recent(key: string, now: number): number[] {
    const since = now - this.limits.windowSeconds * 1000;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  private waitFor(key: string, max: number, now: number): number {
    const list = this.recent(key, now);
    if (list.length < max) return 0;
    const freesAt = list[list.length - max]! + this.limits.windowSeconds * 1000;
    return Math.max(1, Math.ceil((freesAt - now) / 1000));
  }

  private push(key: string, now: number): void {
    if (!this.failures.has(key) && this.failures.size >= MAX_KEYS) this.prune(now);
    const list = this.recent(key, now);
    list.push(now);
    this.failures.set(key, list);
  }

  private prune(now: number): void {
    for (const key of [...this.failures.keys()]) this.recent(key, now);
    // Still full (a flood of distinct keys): drop the oldest entries rather than grow without bound.
    for (const key of this.failures.keys()) {
      if (this.failures.size < MAX_KEYS) break;
      this.failures.delete(key);
    }
  }
}
