import type { Db } from './db.js';
import { toDate, toDateOrNull } from './db.js';

export interface IssuedAccessToken {
  jti: string;
  /** ISO time; a revocation entry must live as long as the token could. */
  expires_at: string;
}

export interface AuthorizationCodeRow {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  resource: string | null;
  code_challenge: string;
  code_challenge_method: string;
  expires_at: Date;
  used_at: Date | null;
  family_id: string | null;
  access_tokens: IssuedAccessToken[];
  replayed_at: Date | null;
}

const fromDb = (r: Record<string, unknown>): AuthorizationCodeRow => ({
  ...(r as unknown as AuthorizationCodeRow),
  expires_at: toDate(r.expires_at),
  used_at: toDateOrNull(r.used_at),
  replayed_at: toDateOrNull(r.replayed_at),
  access_tokens: (typeof r.access_tokens === 'string'
    ? JSON.parse(r.access_tokens)
    : (r.access_tokens ?? [])) as IssuedAccessToken[],
});

export type NewAuthorizationCode = Omit<
  AuthorizationCodeRow,
  'used_at' | 'family_id' | 'access_tokens' | 'replayed_at'
>;

export class CodesStore {
  constructor(private readonly db: Db) {}

  async insert(row: NewAuthorizationCode): Promise<void> {
    await this.db('authorization_codes').insert(row);
  }

  async find(codeHash: string): Promise<AuthorizationCodeRow | undefined> {
    const row = await this.db('authorization_codes').where({ code_hash: codeHash }).first();
    return row ? fromDb(row) : undefined;
  }

  /**
   * Spends the code and names the token family it will start, in one statement: of two concurrent
   * redemptions exactly one wins.
   */
  async claim(codeHash: string, familyId: string): Promise<boolean> {
    const n = await this.db('authorization_codes')
      .where({ code_hash: codeHash })
      .whereNull('used_at')
      .update({ used_at: this.db.fn.now(), family_id: familyId });
    return n === 1;
  }

  async recordAccessToken(codeHash: string, token: IssuedAccessToken): Promise<void> {
    await this.db('authorization_codes')
      .where({ code_hash: codeHash })
      .update({ access_tokens: this.db.raw('access_tokens || ?::jsonb', [JSON.stringify([token])]) });
  }

  async markReplayed(codeHash: string): Promise<void> {
    await this.db('authorization_codes')
      .where({ code_hash: codeHash })
      .whereNull('replayed_at')
      .update({ replayed_at: this.db.fn.now() });
  }

  /** Spent or expired codes are useless after a day; keeping them that long lets a replay still be detected. */
  async deleteOlderThan(before: Date): Promise<number> {
    return this.db('authorization_codes').where('expires_at', '<', before).delete();
  }
}
