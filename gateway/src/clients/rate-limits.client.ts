import { rateLimitPb } from '@picard/proto';
import {
  callUnary,
  createGrpcClient,
  RateLimitedError,
  waitText,
  type InternalTokens,
} from '@picard/service-kit';

export interface Budget {
  /** Names the limit in the shared table, e.g. "signup" or "tool.query_user". */
  limit: string;
  points: number;
  windowSeconds: number;
}

/** "per minute", "per hour", "per 15 min": the window in words for messages. */
export const perWindow = (seconds: number) =>
  seconds === 60 ? 'per minute' : seconds === 3600 ? 'per hour' : `per ${waitText(seconds)}`;

/**
 * The gateway's rate limits, counted by auth-service in its database (RateLimitService), so every
 * gateway instance draws on the same budget.
 */
export class SharedRateLimits {
  private readonly client: rateLimitPb.RateLimitServiceClient;

  constructor(authAddress: string, tokens: InternalTokens) {
    this.client = createGrpcClient(rateLimitPb.RateLimitServiceClient, authAddress, tokens);
  }

  /** Counts one event for `key`; past the budget throws a RateLimitedError with `message(wait)`. */
  async consume(budget: Budget, key: string, message: (wait: string) => string): Promise<void> {
    const res = await callUnary(this.client.consume.bind(this.client), {
      limit: budget.limit,
      key,
      points: budget.points,
      windowSeconds: budget.windowSeconds,
    });
    if (!res.allowed)
      throw new RateLimitedError(message(waitText(res.retryAfterSeconds)), res.retryAfterSeconds);
  }

  close(): void {
    this.client.close();
  }
}
