import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets and refresh tokens are 256-bit random values, so a plain SHA-256 is enough to
 * store them (no KDF needed: there is nothing to brute-force).
 */
export const newSecret = (): string => randomBytes(32).toString('base64url');

export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

const DUMMY = sha256Hex('');

/** Compares a presented secret with a stored hash in constant time; a missing hash still does the work. */
export function secretMatches(presented: string, storedHash: string | undefined): boolean {
  const a = Buffer.from(sha256Hex(presented), 'hex');
  const b = Buffer.from(storedHash ?? DUMMY, 'hex');
  const equal = a.length === b.length && timingSafeEqual(a, b);
  return equal && storedHash !== undefined;
}
