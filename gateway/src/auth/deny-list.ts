import { eventSchemas } from '@picard/proto';
import { callUnary, waitForDependency, type EventBus, type Logger } from '@picard/service-kit';
import type { ServiceClients } from '../clients/service-clients.js';

/**
 * Revoked access-token ids, kept in memory so the per-request check costs a map lookup.
 * Rebuilt from auth-service at start, then fed by `auth.token.revoked` events, so every
 * gateway instance refuses a revoked token as soon as the event arrives.
 */
export interface Cutoff {
  userId?: string;
  clientId?: string;
  familyId?: string;
  cutoffAt: Date;
  expiresAt: Date;
}

export class DenyList {
  private readonly revoked = new Map<string, number>();
  /**
   * Cut-offs (deactivation, password change, client deletion, grant revocation, consent withdrawal):
   * tokens matching the key and issued at or before `at` (ms) are refused until `until`. Keyed by
   * what they match, so a request costs four map lookups.
   */
  private readonly cutoffs = new Map<string, { at: number; until: number }>();

  revokeUser(userId: string, at: Date): void {
    // A deactivation event alone: kept as long as any token issued before it can live (a day is ample).
    this.addCutoff({ userId, cutoffAt: at, expiresAt: new Date(at.getTime() + 86_400_000) });
  }

  addCutoff(c: Cutoff): void {
    const until = c.expiresAt.getTime();
    if (until <= Date.now()) return;
    const key = cutoffKey(c.userId, c.clientId, c.familyId);
    if (!key) return;
    const known = this.cutoffs.get(key);
    this.cutoffs.set(key, {
      at: Math.max(c.cutoffAt.getTime(), known?.at ?? 0),
      until: Math.max(until, known?.until ?? 0),
    });
  }

  /** True when the token itself is revoked or a cut-off covers it. */
  refuses(token: {
    jti: string;
    userId: string;
    clientId?: string;
    familyId?: string;
    issuedAtMs: number;
  }): boolean {
    if (this.has(token.jti)) return true;
    const keys = [
      cutoffKey(token.userId),
      cutoffKey(undefined, token.clientId),
      cutoffKey(token.userId, token.clientId),
    ];
    if (token.familyId) keys.push(cutoffKey(undefined, undefined, token.familyId));
    const now = Date.now();
    for (const key of keys) {
      const cut = key ? this.cutoffs.get(key) : undefined;
      if (!cut) continue;
      if (cut.until <= now) {
        this.cutoffs.delete(key!);
        continue;
      }
      if (token.issuedAtMs <= cut.at) return true;
    }
    return false;
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

  /**
   * Subscribes first, then loads the backlog, so a revocation in between is not missed. The
   * backlog comes from auth-service, waited for (with `onWaiting` told) when it is not up yet.
   */
  async sync(
    clients: ServiceClients,
    bus: EventBus,
    durable: string,
    logger: Logger,
    onWaiting?: (what: string | undefined) => void,
  ) {
    const subscription = await bus.subscribe({
      durable,
      ephemeral: true,
      subjects: ['auth.token.revoked', 'auth.user.deactivated', 'auth.token.cutoff'],
      handler: async (message) => {
        if (message.subject === 'auth.user.deactivated') {
          const event = eventSchemas['auth.user.deactivated'].parse(message.payload);
          this.revokeUser(event.user_id, new Date(event.occurred_at));
          return;
        }
        if (message.subject === 'auth.token.cutoff') {
          const e = eventSchemas['auth.token.cutoff'].parse(message.payload);
          this.addCutoff({
            userId: e.user_id,
            clientId: e.client_id,
            familyId: e.family_id,
            cutoffAt: new Date(e.cutoff_at),
            expiresAt: new Date(e.expires_at),
          });
          return;
        }
        const event = eventSchemas['auth.token.revoked'].parse(message.payload);
        this.add(event.jti, new Date(event.expires_at));
      },
    });
    try {
      await waitForDependency('auth-service (AUTH_GRPC_ADDR)', () => this.loadBacklog(clients), {
        logger,
        onWaiting,
      });
    } catch (err) {
      await subscription.stop();
      throw err;
    }
    logger.info({ revoked: this.size, cutoffs: this.cutoffs.size }, 'token deny-list loaded');
    return subscription;
  }

  private async loadBacklog(clients: ServiceClients) {
    const { revocations, cutoffs } = await callUnary(clients.auth.listRevocations.bind(clients.auth), {
      since: new Date(0),
    });
    for (const r of revocations) if (r.expiresAt) this.add(r.jti, r.expiresAt);
    for (const c of cutoffs) {
      if (!c.cutoffAt || !c.expiresAt) continue;
      this.addCutoff({
        userId: c.userId || undefined,
        clientId: c.clientId || undefined,
        familyId: c.familyId || undefined,
        cutoffAt: c.cutoffAt,
        expiresAt: c.expiresAt,
      });
    }
  }
}

/** One map key per combination a cut-off can name; undefined when it names nothing. */
function cutoffKey(userId?: string, clientId?: string, familyId?: string): string | undefined {
  if (familyId) return `f:${familyId}`;
  if (userId && clientId) return `uc:${userId.toLowerCase()} ${clientId}`;
  if (userId) return `u:${userId.toLowerCase()}`;
  if (clientId) return `c:${clientId}`;
  return undefined;
}
