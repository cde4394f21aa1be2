import { describe, expect, it } from '@jest/globals';
import { DomainError } from '@picard/service-kit';
import { validateEmail, validateRedirectUris, validateScopes, validateUsername } from './validation.js';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('invalid_argument');
    return (err as DomainError).field;
  }
  throw new Error('expected a validation error');
};

describe('redirect URI validation', () => {
  it('accepts https anywhere and http only on loopback hosts', () => {
    const ok = [
      'https://app.example.com/callback',
      'https://app.example.com:8443/cb?x=1',
      'http://localhost:4200/callback',
      'http://127.0.0.1:9999/cb',
      'http://[::1]:8080/cb',
    ];
    expect(validateRedirectUris(ok)).toEqual(ok);
    expect(validateRedirectUris([])).toEqual([]);
  });

  it.each([
    ['http://example.com/cb', 'plain http off loopback'],
    ['http://localhost.example.com/cb', 'a host that only starts like localhost'],
    ['/relative/callback', 'a relative URL'],
    ['not a url', 'garbage'],
    ['https://app.example.com/cb#frag', 'a fragment'],
    ['https://user:pw@app.example.com/cb', 'user information'],
    ['javascript:alert(1)', 'a script URL'],
    ['com.example.app:/oauth', 'a custom scheme'],
    ['', 'an empty string'],
  ])('refuses %s (%s), naming the entry', (uri) => {
    expect(fieldOf(() => validateRedirectUris(['https://ok.example.com/cb', uri]))).toBe('redirect_uris[1]');
  });

  it('refuses a non-list, an oversized list and an oversized URI', () => {
    expect(fieldOf(() => validateRedirectUris('https://a.example.com'))).toBe('redirect_uris');
    expect(
      fieldOf(() => validateRedirectUris(Array.from({ length: 21 }, (_, i) => `https://a.example.com/${i}`))),
    ).toBe('redirect_uris');
    expect(fieldOf(() => validateRedirectUris([`https://a.example.com/${'x'.repeat(2000)}`]))).toBe(
      'redirect_uris[0]',
    );
  });
});

describe('other fields', () => {
  it('scopes: a subset of the known ones, defaulting to read+write', () => {
    expect(validateScopes([])).toEqual(['memories:read', 'memories:write']);
    expect(validateScopes(['memories:admin', 'memories:admin'])).toEqual(['memories:admin']);
    expect(fieldOf(() => validateScopes(['memories:read', 'memories:delete']))).toBe('scopes[1]');
  });

  it('username and email', () => {
    expect(validateUsername('alice.b_c-1')).toBe('alice.b_c-1');
    for (const bad of ['ab', 'a'.repeat(65), 'alice smith', 'alice@x', ''])
      expect(fieldOf(() => validateUsername(bad))).toBe('username');
    expect(validateEmail(' alice@example.com ')).toBe('alice@example.com');
    for (const bad of ['alice', 'alice@', 'a b@example.com', '@example.com', 'a@b'])
      expect(fieldOf(() => validateEmail(bad))).toBe('email');
  });
});
