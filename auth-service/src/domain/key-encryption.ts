import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Jwk } from '../store/keys.store.js';

/** How a private JWK is stored when AUTH_KEY_ENCRYPTION_KEY is set. */
interface Envelope {
  enc: 'A256GCM';
  iv: string;
  tag: string;
  ct: string;
}

export const isEnvelope = (v: Jwk): v is Jwk & Envelope => v.enc === 'A256GCM' && typeof v.ct === 'string';

// The kid is bound as additional data, so an envelope copied onto another row does not decrypt.
export function sealPrivateJwk(jwk: Jwk, kid: string, key: Buffer | undefined): Jwk {
  if (!key) return jwk;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(kid));
  const ct = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
  const envelope: Envelope = {
    enc: 'A256GCM',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  };
  return { ...envelope };
}

/** Plain rows (written before a key was configured) stay readable, so turning encryption on needs no migration. */
export function openPrivateJwk(stored: Jwk, kid: string, key: Buffer | undefined): Jwk {
  if (!isEnvelope(stored)) return stored;
  if (!key) throw new Error(`signing key ${kid} is encrypted at rest: AUTH_KEY_ENCRYPTION_KEY is required`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'));
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(stored.ct, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as Jwk;
  } catch {
    throw new Error(`signing key ${kid} does not decrypt with AUTH_KEY_ENCRYPTION_KEY`);
  }
}
