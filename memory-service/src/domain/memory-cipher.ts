import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../config.js';

/** What a row stores for its text, with the owner its authentication binds. */
export interface SealedText {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  keyId: string;
  /** The row's owner (user_id): part of the authenticated data from AAD version 2 on. */
  ownerId: string;
  /** 1: the AAD binds the id only (rows sealed before owners were bound); 2: id and owner. */
  aadVersion: number;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
export const CURRENT_AAD_VERSION = 2;

// The memory id and its owner are bound as additional authenticated data, so a ciphertext copied
// into another row, or a row given to another owner, fails authentication instead of showing
// someone else's text. Version 1 (id only) is still read, until the rotation job reseals the row;
// a version-2 ciphertext never opens under the version-1 AAD, so relabelling a row does not help.
function aad(memoryId: string, sealed: Pick<SealedText, 'ownerId' | 'aadVersion'>): Buffer {
  if (sealed.aadVersion === 1) return Buffer.from(`picard.memory.v1:${memoryId}`, 'utf8');
  if (sealed.aadVersion === 2) return Buffer.from(`picard.memory.v2:${memoryId}:${sealed.ownerId}`, 'utf8');
  throw new Error(`memory ${memoryId} has an unknown AAD version ${sealed.aadVersion}`);
}

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

  seal(memoryId: string, ownerId: string, text: string): SealedText {
    const iv = randomBytes(IV_BYTES);
    const bound = { ownerId, aadVersion: CURRENT_AAD_VERSION };
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.activeKeyId)!, iv);
    cipher.setAAD(aad(memoryId, bound));
    const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag(), keyId: this.activeKeyId, ...bound };
  }

  open(memoryId: string, sealed: SealedText): string {
    const key = this.keys.get(sealed.keyId);
    if (!key)
      throw new Error(`memory ${memoryId} is sealed with key "${sealed.keyId}", which is not configured`);
    const data = aad(memoryId, sealed);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, sealed.iv);
      decipher.setAAD(data);
      decipher.setAuthTag(sealed.authTag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`memory ${memoryId} failed authentication (tampered data or wrong key)`);
    }
  }
}
