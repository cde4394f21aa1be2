import { describe, expect, it } from '@jest/globals';
import { boundedKey, sourceKey } from './rate-limits.js';

describe('rate-limit keys', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    expect(sourceKey('203.0.113.9')).toBe('203.0.113.9');
    expect(sourceKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(sourceKey('2001:db8:1:2::a')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80::/64');
    expect(sourceKey('2001:db8:1:3::1')).not.toBe(sourceKey('2001:db8:1:2::1'));
  });

  it('caps what a caller can make a key out of', () => {
    expect(sourceKey('')).toBe('unknown');
    const odd = sourceKey('x'.repeat(10_000));
    expect(odd.length).toBeLessThanOrEqual(44);
    expect(sourceKey('not an address')).not.toBe(sourceKey('not an address either'));
    expect(boundedKey('alice')).toBe('alice');
    expect(boundedKey('a'.repeat(65)).length).toBeLessThanOrEqual(44);
    expect(boundedKey('a'.repeat(65))).not.toBe(boundedKey('a'.repeat(66)));
  });
});
