import type { Db } from './db.js';
import { toDate } from './db.js';

export type Jwk = Record<string, unknown>;

export interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: Jwk;
  private_jwk: Jwk;
  created_at: Date;
}

const parse = (v: unknown): Jwk => (typeof v === 'string' ? JSON.parse(v) : v) as Jwk;

export class KeysStore {
  constructor(private readonly db: Db) {}

  /** Active keys, oldest first: every instance signs with the first, so they agree. */
  async listActive(): Promise<SigningKeyRow[]> {
    const rows = await this.db('signing_keys').whereNull('retired_at').orderBy([{ column: 'created_at' }, { column: 'kid' }]);
    return rows.map((r: Record<string, unknown>) => ({
      kid: String(r.kid),
      alg: String(r.alg),
      public_jwk: parse(r.public_jwk),
      private_jwk: parse(r.private_jwk),
      created_at: toDate(r.created_at),
    }));
  }

  async insert(row: Omit<SigningKeyRow, 'created_at'>): Promise<void> {
    await this.db('signing_keys').insert({
      ...row,
      public_jwk: JSON.stringify(row.public_jwk),
      private_jwk: JSON.stringify(row.private_jwk),
    });
  }
}
