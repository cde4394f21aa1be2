import type { Request, Response } from 'express';
import { RateLimitedError, sourceKey } from '@picard/service-kit';
import type { SharedRateLimits } from '../clients/rate-limits.client.js';

export interface SourceLimitSettings {
  signupsPerHour: number;
  registrationsPerHour: number;
  clientIdUrlsPerHour: number;
}

/**
 * Per-source budgets of the unauthenticated operations that cost work: a sign-up (a scrypt hash),
 * a dynamic client registration (a row), an authorization request naming a client id URL (an
 * outbound fetch and a row). The source is req.ip (see GATEWAY_TRUST_PROXY), IPv6 by its /64.
 */
export class SourceLimits {
  constructor(
    private readonly shared: SharedRateLimits,
    private readonly settings: SourceLimitSettings,
  ) {}

  private count(req: Request, limit: string, points: number, what: string) {
    return this.shared.consume(
      { limit, points, windowSeconds: 3600 },
      sourceKey(req.ip ?? ''),
      (wait) => `too many ${what} from your network (at most ${points} per hour); try again in ${wait}`,
    );
  }

  signup(req: Request) {
    return this.count(req, 'signup', this.settings.signupsPerHour, 'sign-ups');
  }

  registration(req: Request) {
    return this.count(req, 'register', this.settings.registrationsPerHour, 'client registrations');
  }

  clientIdUrl(req: Request) {
    return this.count(
      req,
      'client-id-url',
      this.settings.clientIdUrlsPerHour,
      'sign-in requests for new clients',
    );
  }
}

/** Retry-After for a rate-limited answer that is not sent through sendError. */
export function retryAfter(res: Response, err: unknown): void {
  if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
}
