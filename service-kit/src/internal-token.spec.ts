import { describe, expect, it } from '@jest/globals';
import { InternalTokens } from './internal-token.js';

const KEY = 'k'.repeat(40);
const alice = { userId: 'u-alice', scopes: ['memories:read'], clientId: 'c1' };

/** A clock the test moves; both sides of a call read it. */
function clock(start = Date.parse('2026-12-03T12:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (s: number) => (now += s * 1000) };
}

describe('InternalTokens: reuse and remembered verifications', () => {
  it('reuses a token for the same caller and audience while it has half its life left, then signs anew', async () => {
    const c = clock();
    const tokens = new InternalTokens({ key: KEY, issuer: 'gateway', now: c.now });
    const first = await tokens.sign(alice, 'picard.v1.MemoryService');
    c.advance(20);
    expect(await tokens.sign(alice, 'picard.v1.MemoryService')).toBe(first);
    // Another audience, another caller, other scopes: their own tokens.
    expect(await tokens.sign(alice, 'picard.v1.AuthService')).not.toBe(first);
    expect(await tokens.sign({ ...alice, userId: 'u-bob' }, 'picard.v1.MemoryService')).not.toBe(first);
    expect(await tokens.sign({ ...alice, scopes: ['memories:write'] }, 'picard.v1.MemoryService')).not.toBe(
      first,
    );
    c.advance(11);
    expect(await tokens.sign(alice, 'picard.v1.MemoryService')).not.toBe(first);
  });

  it('remembers a verified token only until it expires, and only for its audience', async () => {
    const c = clock();
    const signer = new InternalTokens({ key: KEY, issuer: 'gateway', now: c.now });
    const verifier = new InternalTokens({ key: KEY, issuer: 'memory-service', now: c.now });
    const token = await signer.sign(alice, 'picard.v1.MemoryService');
    expect(await verifier.verify(token, 'picard.v1.MemoryService')).toEqual(alice);
    // Another audience is refused although the token was verified (and remembered) for one.
    await expect(verifier.verify(token, 'picard.v1.AuthService')).rejects.toThrow(/internal token refused/);
    // What a caller does to the answer does not change the next one.
    const answer = await verifier.verify(token, 'picard.v1.MemoryService');
    answer!.scopes.push('admin');
    expect((await verifier.verify(token, 'picard.v1.MemoryService'))!.scopes).toEqual(['memories:read']);
    // Past its expiry (and the tolerated skew) it is refused, remembered or not.
    c.advance(66);
    await expect(verifier.verify(token, 'picard.v1.MemoryService')).rejects.toThrow(/internal token refused/);
  });

  it('never remembers a refusal as an acceptance: a token under another key stays refused', async () => {
    const c = clock();
    const forger = new InternalTokens({ key: 'f'.repeat(40), issuer: 'gateway', now: c.now });
    const verifier = new InternalTokens({ key: KEY, issuer: 'memory-service', now: c.now });
    const forged = await forger.sign(alice, 'picard.v1.MemoryService');
    for (let i = 0; i < 2; i++) {
      await expect(verifier.verify(forged, 'picard.v1.MemoryService')).rejects.toThrow(
        /internal token refused/,
      );
    }
  });
});
