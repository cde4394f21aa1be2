import { describe, expect, it } from '@jest/globals';
import { hashPassword, verifyPassword } from './passwords.js';

describe('password hashing', () => {
  it('stores a salted scrypt hash with its parameters, never the password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toContain('correct horse');
    expect(a).not.toBe(b);
  });

  it('accepts the right password and refuses others', async () => {
    const hash = await hashPassword('s3cret-pässword');
    expect(await verifyPassword('s3cret-pässword', hash)).toBe(true);
    // NFC and NFD spellings of one string are one password.
    expect(await verifyPassword('s3cret-pässword'.normalize('NFD'), hash)).toBe(true);
    expect(await verifyPassword('s3cret-password', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('refuses missing, malformed and abusive hashes after doing the same work', async () => {
    const started = performance.now();
    expect(await verifyPassword('anything', undefined)).toBe(false);
    const dummyMs = performance.now() - started;
    expect(dummyMs).toBeGreaterThan(5);
    expect(await verifyPassword('anything', 'plaintext')).toBe(false);
    expect(await verifyPassword('anything', 'scrypt$ln=30,r=8,p=1$AAAA$AAAA')).toBe(false);
    const hash = await hashPassword('x'.repeat(1024));
    expect(await verifyPassword('x'.repeat(1025), hash)).toBe(false);
  });
});
