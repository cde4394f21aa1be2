import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '@picard/service-kit';
import type { GatewayConfig } from '../../config.js';
import type { ToolDefinition } from './tool-definition.js';

/** Past a tool's limit: resource_exhausted (HTTP 429, an MCP tool error), with when to try again. */
export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('resource_exhausted', message);
    this.name = 'RateLimitedError';
  }
}

/**
 * Per-user call limits of the tools that declare one (`callsPerMinute`). The counters live in this
 * process: each gateway instance counts on its own, so N instances allow up to N times the limit.
 * A shared store (rate-limiter-flexible has Redis and PostgreSQL ones) is the step when that matters.
 */
export class ToolRateLimits {
  private readonly limiters = new Map<string, { perMinute: number; limiter: RateLimiterMemory }>();

  constructor(tools: readonly ToolDefinition[], config: GatewayConfig) {
    for (const tool of tools) {
      const perMinute = tool.callsPerMinute?.(config);
      if (perMinute === undefined) continue;
      this.limiters.set(tool.name, {
        perMinute,
        limiter: new RateLimiterMemory({ keyPrefix: tool.name, points: perMinute, duration: 60 }),
      });
    }
  }

  /** Counts one call of `tool` by `userId`; throws RateLimitedError once the minute's calls are spent. */
  async consume(tool: string, userId: string): Promise<void> {
    const entry = this.limiters.get(tool);
    if (!entry) return;
    try {
      await entry.limiter.consume(userId);
    } catch (res) {
      // The library rejects with a RateLimiterRes when the limit is reached, with an Error otherwise.
      if (!(res instanceof RateLimiterRes)) throw res;
      const wait = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new RateLimitedError(
        `${tool} allows ${entry.perMinute} calls per minute per user; try again in ${wait} s`,
        wait,
      );
    }
  }
}
