import { createHmac, hkdfSync } from 'node:crypto';
import type { EncryptionKey } from '../config.js';
import { countTerms, queryTerms } from './keyword-terms.js';

/** What the keyword index stores for one memory: blinded terms, never words. */
export interface IndexedTerms {
  keyId: string;
  /** The memory's length in terms (BM25's document length). */
  length: number;
  /** Blinded term (a signed 64-bit integer, as decimal text) → frequency in the memory. */
  terms: Map<string, number>;
}

const INFO = Buffer.from('picard.memory.keyword-index.v1', 'utf8');

/**
 * Blinds keyword terms with HMAC-SHA-256 truncated to 64 bits, under an index key of its own per
 * text key (HKDF of the text key, so the database holds equal-term markers, never words, and the
 * index key rotates with the text key: a new active key re-indexes every memory, see
 * KeywordIndexJob). 64 bits keep the postings index small; a collision between two of a user's
 * terms (odds ~n²/2⁶⁵) would only add a wrong keyword candidate, which the vector side outranks.
 */
export class KeywordHasher {
  private readonly keys: Map<string, Buffer>;

  constructor(
    keys: readonly EncryptionKey[],
    readonly activeKeyId: string,
  ) {
    this.keys = new Map(
      keys.map((k) => [k.id, Buffer.from(hkdfSync('sha256', k.key, Buffer.alloc(0), INFO, 32))]),
    );
    if (!this.keys.has(activeKeyId)) throw new Error(`encryption key "${activeKeyId}" is not configured`);
  }

  /** The memory's terms, blinded under the active index key. */
  index(text: string): IndexedTerms {
    const { counts, length } = countTerms(text);
    const key = this.keys.get(this.activeKeyId)!;
    const terms = new Map<string, number>();
    for (const [term, tf] of counts) terms.set(blind(key, term), tf);
    return { keyId: this.activeKeyId, length, terms };
  }

  /**
   * The query's terms blinded under every configured index key, so memories not yet re-indexed
   * after a rotation still match. Grouped per term: BM25 counts a term once however many keys.
   */
  query(text: string): string[][] {
    return queryTerms(text).map((term) => [...this.keys.values()].map((key) => blind(key, term)));
  }
}

function blind(key: Buffer, term: string): string {
  return createHmac('sha256', key).update(term, 'utf8').digest().readBigInt64BE(0).toString();
}
