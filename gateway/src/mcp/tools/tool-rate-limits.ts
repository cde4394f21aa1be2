import { boundedKey, RateLimitedError } from '@picard/service-kit';
import type { GatewayConfig } from '../../config.js';
import { perWindow, type Budget, type SharedRateLimits } from '../../clients/rate-limits.client.js';
import type { ToolDefinition } from './tool-definition.js';

export { RateLimitedError };

/**
 * Per-user call limits of the tools that declare one (`rateLimit`). The counters live in
 * auth-service's database, so every gateway instance counts together.
 */
export class ToolRateLimits {
  private readonly budgets = new Map<string, Budget>();

  constructor(
    tools: readonly ToolDefinition[],
    config: GatewayConfig,
    private readonly shared: SharedRateLimits,
  ) {
    for (const tool of tools) {
      const limit = tool.rateLimit?.(config);
      if (limit)
        this.budgets.set(tool.name, {
          limit: `tool.${tool.name}`,
          points: limit.calls,
          windowSeconds: limit.windowSeconds,
        });
    }
  }

  /** Counts one call of `tool` by `userId`; throws RateLimitedError once the window's calls are spent. */
  async consume(tool: string, userId: string): Promise<void> {
    const budget = this.budgets.get(tool);
    if (!budget) return;
    await this.shared.consume(
      budget,
      boundedKey(userId),
      (wait) =>
        `${tool} allows ${budget.points} call${budget.points === 1 ? '' : 's'} ${perWindow(budget.windowSeconds)} per user; try again in ${wait}`,
    );
  }
}
