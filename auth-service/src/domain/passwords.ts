import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (memory-hard, in node:crypto). The encoded form carries its own
 * parameters, so they can be raised later without breaking stored hashes:
 *   scrypt$ln=17,r=8,p=1$<salt base64>$<hash base64>
 * N = 2^17, r = 8, p = 1 is OWASP's minimum for scrypt (128 MiB, run on libuv's thread pool, not the
 * event loop). Hashes made with the earlier ln=15 still verify and are replaced at the next login.
 */
const DEFAULTS = { ln: 17, r: 8, p: 1 };
const KEY_LEN = 32;
const SALT_LEN = 16;
export const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Buffer, p: { ln: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** p.ln;
  // scrypt needs 128*N*r bytes; Node's default maxmem (32 MiB) is exactly too small for N=2^15, r=8.
  const options: ScryptOptions = { N, r: p.r, p: p.p, maxmem: 256 * N * p.r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LEN, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await derive(password, salt, DEFAULTS);
  return `scrypt$ln=${DEFAULTS.ln},r=${DEFAULTS.r},p=${DEFAULTS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Parsed {
  params: { ln: number; r: number; p: number };
  salt: Buffer;
  key: Buffer;
}

function parse(encoded: string): Parsed | undefined {
  const m = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(encoded);
  if (!m) return undefined;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Refuse parameters that would make one verification a denial of service.
  if (params.ln < 10 || params.ln > 20 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16)
    return undefined;
  return { params, salt: Buffer.from(m[4]!, 'base64'), key: Buffer.from(m[5]!, 'base64') };
}

/** True when a stored hash uses weaker parameters than new ones get (or cannot be read). */
export function needsRehash(encoded: string | null | undefined): boolean {
  if (!encoded) return false;
  const parsed = parse(encoded);
  if (!parsed) return false;
  const { ln, r, p } = parsed.params;
  return ln < DEFAULTS.ln || r < DEFAULTS.r || p < DEFAULTS.p;
}

/**
 * A well-formed hash that matches no password. Verifying against it costs the same as a real
 * check, so "no such user" and "wrong password" take the same time.
 */
const DUMMY_HASH = `scrypt$ln=${DEFAULTS.ln},r=${DEFAULTS.r},p=${DEFAULTS.p}$${Buffer.alloc(SALT_LEN).toString('base64')}$${Buffer.alloc(KEY_LEN).toString('base64')}`;

/** Constant-time check; a missing or malformed hash still runs a full scrypt and returns false. */
export async function verifyPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
  const tooLong = password.length > MAX_PASSWORD_LENGTH;
  const parsed = (!tooLong && encoded && parse(encoded)) || undefined;
  const target = parsed ?? parse(DUMMY_HASH)!;
  const candidate = await derive(tooLong ? '' : password, target.salt, target.params);
  const ok = candidate.length === target.key.length && timingSafeEqual(candidate, target.key);
  return ok && parsed !== undefined;
}
