import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { memoryConfigSchema } from './config.js';
import { withInternalKey } from '@picard/service-kit/testing';

const b64 = () => randomBytes(32).toString('base64');
const load = (env: Record<string, string>) => loadConfig(memoryConfigSchema, withInternalKey(env));

describe('memory-service configuration', () => {
  it('parses key lists, the last key encrypting by default', () => {
    const c = load({ MEMORY_ENCRYPTION_KEYS: `old:${b64()}, new:${b64()}` });
    expect(c.MEMORY_ENCRYPTION_KEYS.map((k) => [k.id, k.key.length])).toEqual([
      ['old', 32],
      ['new', 32],
    ]);
    expect(c.MEMORY_ENCRYPTION_KEY_ID).toBeUndefined();
    expect(c.MEMORY_MAX_TEXT_CHARS).toBe(10_000);
    expect(c.MEMORY_HNSW_EF_SEARCH).toBe(100);
    expect(c.MEMORY_KEY_ROTATION).toBe('auto');
    expect(c.EMBEDDING_GRPC_ADDR).toBe('127.0.0.1:50053');
  });

  it('names MEMORY_ENCRYPTION_KEYS when missing or malformed, without echoing key material', () => {
    expect(() => load({})).toThrow(ConfigError);
    expect(() => load({})).toThrow(/MEMORY_ENCRYPTION_KEYS/);
    const good = b64();
    const short = randomBytes(16).toString('base64');
    const attempt = () => load({ MEMORY_ENCRYPTION_KEYS: `a:${good},b:${short}` });
    expect(attempt).toThrow(/MEMORY_ENCRYPTION_KEYS.*key "b" must be 32 bytes/);
    try {
      attempt();
    } catch (err) {
      expect((err as Error).message).not.toContain(good);
      expect((err as Error).message).not.toContain(short);
    }
    expect(() => load({ MEMORY_ENCRYPTION_KEYS: 'no-separator' })).toThrow(/MEMORY_ENCRYPTION_KEYS/);
    expect(() => load({ MEMORY_ENCRYPTION_KEYS: `a:${good},a:${good}` })).toThrow(/listed twice/);
  });

  it('refuses an active key id that is not listed', () => {
    expect(() => load({ MEMORY_ENCRYPTION_KEYS: `a:${b64()}`, MEMORY_ENCRYPTION_KEY_ID: 'b' })).toThrow(
      /MEMORY_ENCRYPTION_KEY_ID/,
    );
  });

  it('has job defaults and names a bad grace period or interval', () => {
    const c = load({ MEMORY_ENCRYPTION_KEYS: `a:${b64()}` });
    expect([
      c.MEMORY_EXPIRY_GRACE_SECONDS,
      c.MEMORY_SWEEP_INTERVAL_SECONDS,
      c.MEMORY_EMBEDDING_RETRY_SECONDS,
      c.MEMORY_HISTORY_MAX_VERSIONS,
    ]).toEqual([604800, 300, 30, 100]);
    expect(() => load({ MEMORY_ENCRYPTION_KEYS: `a:${b64()}`, MEMORY_HISTORY_MAX_VERSIONS: '0' })).toThrow(
      /MEMORY_HISTORY_MAX_VERSIONS/,
    );
    expect(
      load({ MEMORY_ENCRYPTION_KEYS: `a:${b64()}`, MEMORY_EXPIRY_GRACE_SECONDS: '0' })
        .MEMORY_EXPIRY_GRACE_SECONDS,
    ).toBe(0);
    expect(() => load({ MEMORY_ENCRYPTION_KEYS: `a:${b64()}`, MEMORY_EXPIRY_GRACE_SECONDS: '-1' })).toThrow(
      /MEMORY_EXPIRY_GRACE_SECONDS/,
    );
    expect(() => load({ MEMORY_ENCRYPTION_KEYS: `a:${b64()}`, MEMORY_SWEEP_INTERVAL_SECONDS: '0' })).toThrow(
      /MEMORY_SWEEP_INTERVAL_SECONDS/,
    );
    expect(() =>
      load({ MEMORY_ENCRYPTION_KEYS: `a:${b64()}`, MEMORY_EMBEDDING_RETRY_SECONDS: 'soon' }),
    ).toThrow(/MEMORY_EMBEDDING_RETRY_SECONDS/);
  });
});
