import type { Db } from './db.js';
import { toDate, toDateOrNull } from './db.js';

export interface RefreshTokenRow {
  id: string;
  token_hash: string;
  family_id: string;
  user_id: string;
  client_id: string;
  scope: string;
  /** The RFC 8707 resource the grant was bound to (the tokens' audience); null = the issuer. */
  resource: string | null;
  expires_at: Date;
  revoked_at: Date | null;
  replaced_by: string | null;
}

export interface RevocationRow {
  jti: string;
  expires_at: Date;
}

export interface CutoffRow {
  user_id: string | null;
  client_id: string | null;
  family_id: string | null;
  cutoff_at: Date;
  expires_at: Date;
}

const cutoffFromDb = (r: Record<string, unknown>): CutoffRow => ({
  user_id: (r.user_id as string | null) ?? null,
  client_id: (r.client_id as string | null) ?? null,
  family_id: (r.family_id as string | null) ?? null,
  cutoff_at: toDate(r.cutoff_at),
  expires_at: toDate(r.expires_at),
});

const refreshFromDb = (r: Record<string, unknown>): RefreshTokenRow => ({
  ...(r as unknown as RefreshTokenRow),
  expires_at: toDate(r.expires_at),
  revoked_at: toDateOrNull(r.revoked_at),
});

/** Refresh tokens (stored as hashes only) and the deny-list of revoked access-token ids. */
export class TokensStore {
  constructor(private readonly db: Db) {}

  async insertRefreshToken(row: Omit<RefreshTokenRow, 'revoked_at' | 'replaced_by'>): Promise<void> {
    await this.db('refresh_tokens').insert(row);
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    const row = await this.db('refresh_tokens').where({ token_hash: tokenHash }).first();
    return row ? refreshFromDb(row) : undefined;
  }

  /**
   * Marks a live token as used and names its successor in one statement, so of two concurrent
   * uses exactly one wins. Returns false when the token was no longer live.
   */
  async claimForRotation(id: string, successorId: string): Promise<boolean> {
    const n = await this.db('refresh_tokens')
      .where({ id })
      .whereNull('revoked_at')
      .update({ revoked_at: this.db.fn.now(), replaced_by: successorId });
    return n === 1;
  }

  async revokeRefreshToken(id: string): Promise<void> {
    await this.db('refresh_tokens')
      .where({ id })
      .whereNull('revoked_at')
      .update({ revoked_at: this.db.fn.now() });
  }

  async revokeFamily(familyId: string): Promise<number> {
    return this.db('refresh_tokens')
      .where({ family_id: familyId })
      .whereNull('revoked_at')
      .update({ revoked_at: this.db.fn.now() });
  }

  async revokeForUserAndClient(userId: string, clientId: string): Promise<number> {
    return this.db('refresh_tokens')
      .where({ user_id: userId, client_id: clientId })
      .whereNull('revoked_at')
      .update({ revoked_at: this.db.fn.now() });
  }

  async revokeAllForUser(userId: string): Promise<number> {
    return this.db('refresh_tokens')
      .where({ user_id: userId })
      .whereNull('revoked_at')
      .update({ revoked_at: this.db.fn.now() });
  }

  /** Returns false when the jti was already on the list. */
  async insertRevocation(jti: string, expiresAt: Date): Promise<boolean> {
    const rows = await this.db('revocations')
      .insert({ jti, expires_at: expiresAt })
      .onConflict('jti')
      .ignore()
      .returning('jti');
    return rows.length === 1;
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.db('revocations').where({ jti }).first()) !== undefined;
  }

  async listRevocations(since: Date | undefined, now: Date): Promise<RevocationRow[]> {
    const q = this.db('revocations').select('jti', 'expires_at').where('expires_at', '>', now);
    if (since) q.andWhere('created_at', '>=', since);
    const rows = await q.orderBy('created_at');
    return rows.map((r: Record<string, unknown>) => ({
      jti: String(r.jti),
      expires_at: toDate(r.expires_at),
    }));
  }

  async insertCutoff(row: CutoffRow): Promise<void> {
    await this.db('token_cutoffs').insert(row);
  }

  /** Cut-offs that can still match a live token, oldest first. */
  async listCutoffs(now: Date): Promise<CutoffRow[]> {
    const rows = await this.db('token_cutoffs').where('expires_at', '>', now).orderBy('id');
    return rows.map(cutoffFromDb);
  }

  /** True when a cut-off matches the token: every column it sets equals the token's, and it was issued no later. */
  async isCutOff(t: {
    userId: string;
    clientId: string;
    familyId?: string;
    issuedAt: Date;
  }): Promise<boolean> {
    const row = await this.db('token_cutoffs')
      .where('expires_at', '>', new Date())
      .andWhere('cutoff_at', '>=', t.issuedAt)
      .andWhere((q) => q.whereNull('user_id').orWhere('user_id', t.userId))
      .andWhere((q) => q.whereNull('client_id').orWhere('client_id', t.clientId))
      .andWhere((q) =>
        t.familyId ? q.whereNull('family_id').orWhere('family_id', t.familyId) : q.whereNull('family_id'),
      )
      .first();
    return row !== undefined;
  }

  async deleteExpiredCutoffs(now: Date): Promise<void> {
    await this.db('token_cutoffs').where('expires_at', '<=', now).delete();
  }
}
