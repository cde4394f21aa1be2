import type { rateLimitPb } from '@picard/proto';
import { unary, type Logger } from '@picard/service-kit';
import type { RateLimitService } from '../domain/rate-limit.service.js';

/** decode → domain → encode; nothing else. */
export function createRateLimitHandlers(
  limits: RateLimitService,
  logger: Logger,
): rateLimitPb.RateLimitServiceServer {
  return {
    consume: unary(logger, 'Consume', async (req: rateLimitPb.ConsumeRequest) =>
      limits.consume({
        limit: req.limit,
        key: req.key,
        points: req.points,
        windowSeconds: req.windowSeconds,
      }),
    ),
  };
}
