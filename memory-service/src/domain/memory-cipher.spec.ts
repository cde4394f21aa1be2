import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { newId } from '@picard/service-kit';
import { MemoryCipher } from './memory-cipher.js';

const key = (id: string) => ({ id, key: randomBytes(32) });
const OWNER = newId();

describe('MemoryCipher', () => {
  const k1 = key('k1');
  const k2 = key('k2');

  it('round-trips text, with a fresh IV every time', () => {
    const cipher = new MemoryCipher([k1]);
    const id = newId();
    const a = cipher.seal(id, OWNER, 'Grüße, 世界 🌍');
    const b = cipher.seal(id, OWNER, 'Grüße, 世界 🌍');
    expect(a.keyId).toBe('k1');
    expect(a.iv).toHaveLength(12);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.toString('utf8')).not.toContain('Grüße');
    expect(cipher.open(id, a)).toBe('Grüße, 世界 🌍');
  });

  it('refuses tampered ciphertext, tag or IV', () => {
    const cipher = new MemoryCipher([k1]);
    const id = newId();
    const sealed = cipher.seal(id, OWNER, 'secret text');
    const flip = (b: Buffer) => Buffer.from(b.map((x, i) => (i === 0 ? x ^ 1 : x)));
    expect(() => cipher.open(id, { ...sealed, ciphertext: flip(sealed.ciphertext) })).toThrow(
      /failed authentication/,
    );
    expect(() => cipher.open(id, { ...sealed, authTag: flip(sealed.authTag) })).toThrow(
      /failed authentication/,
    );
    expect(() => cipher.open(id, { ...sealed, iv: flip(sealed.iv) })).toThrow(/failed authentication/);
  });

  it('refuses a ciphertext moved to another row', () => {
    const cipher = new MemoryCipher([k1]);
    const sealed = cipher.seal(newId(), OWNER, 'belongs to one row');
    expect(() => cipher.open(newId(), sealed)).toThrow(/failed authentication/);
  });

  it('refuses an unknown key id, naming it', () => {
    const cipher = new MemoryCipher([k1]);
    const sealed = cipher.seal(newId(), OWNER, 'x');
    expect(() => cipher.open(newId(), { ...sealed, keyId: 'gone' })).toThrow(/"gone"/);
  });

  it('reads rows of both keys after rotation, sealing new ones with the active key', () => {
    const before = new MemoryCipher([k1]);
    const after = new MemoryCipher([k1, k2]);
    const oldId = newId();
    const newIdValue = newId();
    const old = before.seal(oldId, OWNER, 'old row');
    const fresh = after.seal(newIdValue, OWNER, 'new row');
    expect(fresh.keyId).toBe('k2');
    expect(after.open(oldId, old)).toBe('old row');
    expect(after.open(newIdValue, fresh)).toBe('new row');
    expect(() => before.open(newIdValue, fresh)).toThrow(/"k2"/);
    expect(new MemoryCipher([k1, k2], 'k1').seal(newId(), OWNER, 'x').keyId).toBe('k1');
  });

  it('refuses an active key that is not configured', () => {
    expect(() => new MemoryCipher([k1], 'k9')).toThrow(/k9/);
  });
});
