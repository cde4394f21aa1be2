import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for the secrets the BFF keeps (Picard tokens, the client secret): a random 12-byte IV
 * per value and associated data (the owner's id) binding each ciphertext to its row, so a value
 * copied onto another row does not decrypt. Stored as `iv.ciphertext.tag`, base64url each.
 */
export class Sealer {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the token key must be 32 bytes');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  static fromBase64(b64: string): Sealer {
    return new Sealer(Buffer.from(b64, 'base64'));
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [iv, ct, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
  }

  open(sealed: string, aad: string, keyId?: string): string {
    if (keyId && keyId !== this.keyId) {
      throw new Error(`this value was sealed with key ${keyId}, not the configured key ${this.keyId}`);
    }
    const [iv, ct, tag] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    if (!iv || !ct || !tag) throw new Error('malformed sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  }
}
