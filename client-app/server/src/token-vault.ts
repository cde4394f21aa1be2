import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { SessionExpiredError } from './errors.js';
import { GrantEndedError, type PicardOAuth } from './oauth.js';
import { PicardHttpError, type TokenResponse } from './picard.client.js';
import type { Sealer } from './sealing.js';
import type { TokenRow, TokensStore } from './store/tokens.store.js';

/**
 * Refresh this long before the access token expires: a minute, or half the token's life when it is
 * shorter (so a short-lived token is not refreshed on every call).
 */
const REFRESH_MARGIN_MS = 60_000;
const marginOf = (row: TokenRow) =>
  Math.min(REFRESH_MARGIN_MS, (row.expires_at.getTime() - new Date(row.updated_at).getTime()) / 2);
const fresh = (row: TokenRow) => row.expires_at.getTime() - Date.now() > marginOf(row);

/** Identifies one sign-in's token set and the account it belongs to. */
export interface Grant {
  id: string;
  userId: string;
}

/** How often a request waiting for another instance's refresh reads the grant again. */
const CLAIM_POLL_MS = 50;

/**
 * Users' Picard tokens, sealed at rest, never handed out beyond the call that needs them. Access
 * tokens are refreshed shortly before they expire and once when Picard answers 401, single-flight
 * per grant: refresh tokens rotate on every use and Picard revokes the whole family when one is
 * used twice, so concurrent requests of one session must share one refresh. Within an instance
 * they share one promise; across instances on one database, the refresh is claimed in the grant's
 * row first (TokensStore.claimRefresh) and the others wait for the pair it stores.
 */
export class TokenVault {
  private readonly inflight = new Map<string, Promise<string>>();
  /** Refreshes sent to Picard since start (an operational counter; tests read it). */
  refreshes = 0;

  constructor(
    private readonly store: TokensStore,
    private readonly sealer: Sealer,
    private readonly oauth: PicardOAuth,
    private readonly logger: Logger,
  ) {}

  private sealed(userId: string, t: TokenResponse, fallbackScope = '') {
    return {
      updated_at: new Date(),
      access_token: this.sealer.seal(t.access_token, userId),
      refresh_token: this.sealer.seal(t.refresh_token, userId),
      key_id: this.sealer.keyId,
      expires_at: new Date(Date.now() + t.expires_in * 1000),
      scope: t.scope || fallbackScope,
    };
  }

  /** Keeps a new sign-in's tokens; returns the grant id the session holds. */
  async save(userId: string, t: TokenResponse): Promise<string> {
    const id = randomUUID();
    await this.store.insert({ id, user_id: userId, ...this.sealed(userId, t) });
    return id;
  }

  private async row(grant: Grant): Promise<TokenRow> {
    const row = await this.store.find(grant.id);
    if (!row || row.user_id !== grant.userId) throw new SessionExpiredError();
    return row;
  }

  async scopes(grant: Grant): Promise<string[]> {
    return (await this.row(grant)).scope.split(' ').filter(Boolean);
  }

  /** A usable access token, refreshed first when it is about to expire. */
  async accessToken(grant: Grant): Promise<string> {
    const row = await this.row(grant);
    if (fresh(row)) {
      return this.sealer.open(row.access_token, grant.userId, row.key_id);
    }
    return this.refresh(grant);
  }

  /**
   * Runs a call with the access token; on a 401 from Picard refreshes once and runs it again. A
   * second 401 means Picard no longer accepts this sign-in at all.
   */
  async withToken<T>(grant: Grant, call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken(grant);
    try {
      return await call(token);
    } catch (err) {
      if (!(err instanceof PicardHttpError && err.status === 401)) throw err;
    }
    const fresh = await this.refresh(grant, token);
    try {
      return await call(fresh);
    } catch (err) {
      if (err instanceof PicardHttpError && err.status === 401) {
        await this.store.delete(grant.id);
        throw new SessionExpiredError();
      }
      throw err;
    }
  }

  /**
   * One refresh per grant at a time; callers arriving meanwhile share its result. `stale` is the
   * token Picard refused: when the stored one differs, another request has refreshed already.
   */
  private refresh(grant: Grant, stale?: string): Promise<string> {
    const running = this.inflight.get(grant.id);
    if (running) return running;
    const p = this.refreshUnlessDone(grant, stale).finally(() => this.inflight.delete(grant.id));
    this.inflight.set(grant.id, p);
    return p;
  }

  /** Refreshes once this instance holds the claim; while another instance does, waits for its pair. */
  private async refreshUnlessDone(grant: Grant, stale?: string): Promise<string> {
    for (;;) {
      const row = await this.row(grant);
      const current = this.sealer.open(row.access_token, grant.userId, row.key_id);
      if (stale ? current !== stale : fresh(row)) return current;
      if (await this.store.claimRefresh(grant.id, new Date(row.updated_at)))
        return this.refreshClaimed(grant, row);
      await new Promise((r) => setTimeout(r, CLAIM_POLL_MS));
    }
  }

  private async refreshClaimed(grant: Grant, row: TokenRow): Promise<string> {
    const refreshToken = this.sealer.open(row.refresh_token, grant.userId, row.key_id);
    let t: TokenResponse;
    try {
      this.refreshes++;
      t = await this.oauth.refresh(refreshToken);
    } catch (err) {
      if (err instanceof GrantEndedError) {
        this.logger.info({ grant: grant.id }, 'refresh token refused; the sign-in has ended');
        await this.store.delete(grant.id);
        throw new SessionExpiredError();
      }
      // Unreleased (the database is down too, say), the claim lapses by itself.
      await this.store.releaseClaim(grant.id).catch(() => undefined);
      throw err;
    }
    await this.store.replace(grant.id, this.sealed(grant.userId, t, row.scope));
    return t.access_token;
  }

  /** Ends a sign-in: the refresh token is revoked at Picard (its family with it), the row deleted. */
  async revoke(grant: Grant): Promise<void> {
    const row = await this.store.find(grant.id);
    if (!row || row.user_id !== grant.userId) return;
    await this.store.delete(grant.id);
    try {
      await this.oauth.revoke(this.sealer.open(row.refresh_token, grant.userId, row.key_id));
    } catch (err) {
      this.logger.warn({ grant: grant.id, cause: (err as Error).message }, 'revocation at Picard failed');
    }
  }

  /** Every sign-in of a user (deactivation): revoked at Picard and deleted. */
  async revokeAll(userId: string): Promise<void> {
    const rows = await this.store.deleteForUser(userId);
    for (const row of rows) {
      try {
        await this.oauth.revoke(this.sealer.open(row.refresh_token, userId, row.key_id));
      } catch (err) {
        this.logger.warn({ grant: row.id, cause: (err as Error).message }, 'revocation at Picard failed');
      }
    }
  }
}
