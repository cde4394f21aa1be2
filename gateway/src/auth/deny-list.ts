import { eventSchemas } from '@picard/proto';
import { callUnary, type EventBus, type Logger } from '@picard/service-kit';
import type { ServiceClients } from '../clients/service-clients.js';

/**
 * Revoked access-token ids, kept in memory so the per-request check costs a map lookup.
 * Rebuilt from auth-service at start, then fed by `auth.token.revoked` events, so every
 * gateway instance refuses a revoked token as soon as the event arrives.
 */
export class DenyList {
  private readonly revoked = new Map<string, number>();
  /** Deactivated users: tokens issued before this moment (ms) are refused. */
  private readonly usersRevokedAt = new Map<string, number>();

  revokeUser(userId: string, at: Date): void {
    this.usersRevokedAt.set(userId, Math.max(at.getTime(), this.usersRevokedAt.get(userId) ?? 0));
  }

  /** True when the token itself, or every token of its user issued before a deactivation, is revoked. */
  refuses(token: { jti: string; userId: string; issuedAtMs: number }): boolean {
    const userCut = this.usersRevokedAt.get(token.userId);
    return this.has(token.jti) || (userCut !== undefined && token.issuedAtMs <= userCut);
  }

  add(jti: string, expiresAt: Date): void {
    if (expiresAt.getTime() > Date.now()) this.revoked.set(jti, expiresAt.getTime());
  }

  has(jti: string): boolean {
    const exp = this.revoked.get(jti);
    if (exp === undefined) return false;
    if (exp <= Date.now()) {
      this.revoked.delete(jti);
      return false;
    }
    return true;
  }

  get size(): number {
    return this.revoked.size;
  }

  /** Subscribes first, then loads the backlog, so a revocation in between is not missed. */
  async sync(clients: ServiceClients, bus: EventBus, durable: string, logger: Logger) {
    const subscription = await bus.subscribe({
      durable,
      ephemeral: true,
      subjects: ['auth.token.revoked', 'auth.user.deactivated'],
      handler: async (message) => {
        if (message.subject === 'auth.user.deactivated') {
          const event = eventSchemas['auth.user.deactivated'].parse(message.payload);
          this.revokeUser(event.user_id, new Date(event.occurred_at));
          return;
        }
        const event = eventSchemas['auth.token.revoked'].parse(message.payload);
        this.add(event.jti, new Date(event.expires_at));
      },
    });
    const { revocations } = await callUnary(clients.auth.listRevocations.bind(clients.auth), {
      since: new Date(0),
    });
    for (const r of revocations) if (r.expiresAt) this.add(r.jti, r.expiresAt);
    logger.info({ revoked: this.size }, 'token deny-list loaded');
    return subscription;
  }
}
