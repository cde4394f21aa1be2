import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../config.js';

/** What a row stores for its text. */
export interface SealedText {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  keyId: string;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;

// The memory id is bound as additional authenticated data, so a ciphertext copied into another
// row (same key, different id) fails authentication instead of showing someone else's text.
const aad = (memoryId: string) => Buffer.from(`picard.memory.v1:${memoryId}`, 'utf8');

/**
 * AES-256-GCM under versioned keys: new rows use the active key, every row names its key, so old
 * rows stay readable after a new key is appended.
 */
export class MemoryCipher {
  private readonly keys: Map<string, Buffer>;

  constructor(
    keys: EncryptionKey[],
    readonly activeKeyId: string = keys.at(-1)?.id ?? '',
  ) {
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    if (!this.keys.has(activeKeyId)) throw new Error(`encryption key "${activeKeyId}" is not configured`);
    for (const [id, key] of this.keys) {
      if (key.length !== 32) throw new Error(`encryption key "${id}" must be 32 bytes`);
    }
  }

  seal(memoryId: string, text: string): SealedText {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.activeKeyId)!, iv);
    cipher.setAAD(aad(memoryId));
    const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag(), keyId: this.activeKeyId };
  }

  open(memoryId: string, sealed: SealedText): string {
    const key = this.keys.get(sealed.keyId);
    if (!key)
      throw new Error(`memory ${memoryId} is sealed with key "${sealed.keyId}", which is not configured`);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, sealed.iv);
      decipher.setAAD(aad(memoryId));
      decipher.setAuthTag(sealed.authTag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`memory ${memoryId} failed authentication (tampered data or wrong key)`);
    }
  }
}
