import type { Db } from './db.js';
import { toDate, toDateOrNull } from './db.js';

export type Jwk = Record<string, unknown>;

export interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: Jwk;
  /** The private JWK, or its AES-256-GCM envelope when AUTH_KEY_ENCRYPTION_KEY is set. */
  private_jwk: Jwk;
  /** Published (in the JWKS) from here on. */
  created_at: Date;
  /** Signs from here on, until retired_at. */
  activates_at: Date;
  /** Stops signing here; stays published until retired_at + the access-token lifetime. */
  retired_at: Date | null;
}

const parse = (v: unknown): Jwk => (typeof v === 'string' ? JSON.parse(v) : v) as Jwk;

export class KeysStore {
  constructor(private readonly db: Db) {}

  /** Every stored key, oldest first. The table stays tiny: keys past their publication are deleted. */
  async listAll(): Promise<SigningKeyRow[]> {
    const rows = await this.db('signing_keys').orderBy([
      { column: 'activates_at' },
      { column: 'created_at' },
      { column: 'kid' },
    ]);
    return rows.map((r: Record<string, unknown>) => ({
      kid: String(r.kid),
      alg: String(r.alg),
      public_jwk: parse(r.public_jwk),
      private_jwk: parse(r.private_jwk),
      created_at: toDate(r.created_at),
      activates_at: toDate(r.activates_at),
      retired_at: toDateOrNull(r.retired_at),
    }));
  }

  /**
   * Serialises key creation between instances until the transaction ends. A table lock rather than
   * a row lock, because the first key must be guarded while the table is still empty; plain reads
   * (ACCESS SHARE) are not blocked.
   */
  async lockForRotation(): Promise<void> {
    await this.db.raw('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
  }

  async insert(row: SigningKeyRow): Promise<void> {
    await this.db('signing_keys').insert({
      ...row,
      public_jwk: JSON.stringify(row.public_jwk),
      private_jwk: JSON.stringify(row.private_jwk),
    });
  }

  async updatePrivateJwk(kid: string, privateJwk: Jwk): Promise<void> {
    await this.db('signing_keys')
      .where({ kid })
      .update({ private_jwk: JSON.stringify(privateJwk) });
  }

  /** Retires every key still without an end, except the given one. */
  async retireOthers(kid: string, at: Date): Promise<number> {
    return this.db('signing_keys').whereNull('retired_at').whereNot({ kid }).update({ retired_at: at });
  }

  /** Deletes keys retired at or before the given instant (no token they signed can still be valid). */
  async deleteRetiredBefore(before: Date): Promise<number> {
    return this.db('signing_keys').whereNotNull('retired_at').where('retired_at', '<=', before).delete();
  }
}
