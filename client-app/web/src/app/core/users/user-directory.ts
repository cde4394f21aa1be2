/**
 * Usernames for user ids and back, through lookup_users (exact names and ids only: Picard never lists
 * its users). Answers are cached for the page's life; ids asked for together share one call.
 */
import { Injectable, inject, signal } from '@angular/core';
import { BffClient } from '../api/bff-client';
import type { UserRef } from '../api/tool-types';

/** lookup_users' bounds per call. */
const MAX_IDS = 100;
const MAX_NAMES = 20;

@Injectable({ providedIn: 'root' })
export class UserDirectory {
  private readonly bff = inject(BffClient);
  private readonly pending = new Set<string>();
  /** user id → username; null when lookup_users did not know the id (deactivated account). */
  readonly names = signal<ReadonlyMap<string, string | null>>(new Map());

  /** The username for an id, once resolved (undefined while unknown). */
  nameOf(id: string): string | null | undefined {
    return this.names().get(id.toLowerCase());
  }

  /** Looks up every id not known yet; failures leave ids unresolved (shown as a short id). */
  async resolveIds(ids: Iterable<string>): Promise<void> {
    const known = this.names();
    const missing = [...new Set([...ids].map((id) => id.toLowerCase()))].filter(
      (id) => !known.has(id) && !this.pending.has(id),
    );
    if (missing.length === 0) return;
    missing.forEach((id) => this.pending.add(id));
    try {
      for (let i = 0; i < missing.length; i += MAX_IDS) {
        const batch = missing.slice(i, i + MAX_IDS);
        const { users } = await this.bff.tool('lookup_users', { user_ids: batch });
        this.remember(users, batch);
      }
    } catch {
      // Names are a nicety: the page still works with ids.
    } finally {
      missing.forEach((id) => this.pending.delete(id));
    }
  }

  /**
   * Exact usernames to accounts. Returns the found ones and the names nobody has; errors (rate
   * limit, Picard down) reject so that the form can say so.
   */
  async findByUsernames(usernames: string[]): Promise<{ found: UserRef[]; unknown: string[] }> {
    const wanted = [...new Set(usernames.map((u) => u.trim()).filter(Boolean))];
    const found: UserRef[] = [];
    for (let i = 0; i < wanted.length; i += MAX_NAMES) {
      const { users } = await this.bff.tool('lookup_users', { usernames: wanted.slice(i, i + MAX_NAMES) });
      found.push(...users);
    }
    this.remember(found, []);
    const foundNames = new Set(found.map((u) => u.username.toLowerCase()));
    return { found, unknown: wanted.filter((u) => !foundNames.has(u.toLowerCase())) };
  }

  private remember(users: UserRef[], asked: string[]): void {
    const next = new Map(this.names());
    for (const id of asked) if (!next.has(id)) next.set(id, null);
    for (const u of users) next.set(u.user_id.toLowerCase(), u.username);
    this.names.set(next);
  }
}
