import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, loadConfig } from '@picard/service-kit';
import { gatewayConfigSchema, startGateway, type GatewayHandle } from '@picard/gateway';
import { ADMIN, basic, startTestStack, type TestStack } from '../support/test-stack.js';

const PER_SOURCE = 5;

/**
 * Issue #11, item 4: login throttling keys on the client's real address. The stack's gateway trusts
 * a loopback proxy (GATEWAY_TRUST_PROXY=loopback), as one behind a reverse proxy would; a second
 * gateway on the same services trusts none (the default), as one facing clients directly.
 */
describe('item 4: login throttling per client address, shared in the database', () => {
  let t: TestStack;
  let direct: GatewayHandle;
  beforeAll(async () => {
    t = await startTestStack({
      GATEWAY_TRUST_PROXY: 'loopback',
      AUTH_LOGIN_MAX_FAILURES_PER_IP: String(PER_SOURCE),
      AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '5',
    });
    direct = await startGateway({
      config: loadConfig(gatewayConfigSchema, {
        ...t.env,
        INTERNAL_TOKEN_KEY: t.stack.internalKey,
        GATEWAY_TRUST_PROXY: undefined,
      }),
      logger: createLogger('gateway-direct', 'silent'),
      addresses: t.stack.addresses,
      bus: t.bus,
      host: '127.0.0.1',
      port: 0,
    });
  });
  afterAll(async () => {
    await direct?.stop();
    await t?.stop();
  });

  /** An admin API call with HTTP Basic credentials, as seen from `from` (X-Forwarded-For). */
  const adminCall = (base: string, username: string, password: string, from?: string) =>
    fetch(`${base}/api/admin/clients`, {
      headers: { authorization: basic(username, password), ...(from ? { 'x-forwarded-for': from } : {}) },
    });

  /** Wrong passwords from `from` until the gateway answers 429; how many it took. */
  const failUntilThrottled = async (
    base: string,
    from: string | (() => string),
    user = (i: number) => `ghost-${i}`,
  ) => {
    for (let i = 1; i <= 50; i++) {
      const res = await adminCall(base, user(i), 'wrong password', typeof from === 'string' ? from : from());
      if (res.status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        return i;
      }
      expect(res.status).toBe(401);
    }
    throw new Error('never throttled');
  };

  it("item 4: a client's own X-Forwarded-For is not trusted from an untrusted peer", async () => {
    // A new made-up address on every attempt: the direct gateway keys them all on the real peer.
    let n = 0;
    const attempts = await failUntilThrottled(direct.url, () => `192.0.2.${++n}`);
    expect(attempts).toBeLessThanOrEqual(PER_SOURCE + 1);
    // The counters are auth-service's, in its database: the other gateway sees the same pause.
    expect((await adminCall(t.url, ADMIN.username, ADMIN.password)).status).toBe(429);
  });

  it('item 4: behind a configured proxy, different clients are keyed apart', async () => {
    await failUntilThrottled(t.url, '203.0.113.5');
    // The same proxy relays another client: that one is not throttled.
    const other = await adminCall(t.url, ADMIN.username, ADMIN.password, '198.51.100.7');
    expect(other.status).toBe(200);
    // A spoofed entry in front of the proxy's own does not change who is counted.
    const spoofed = await adminCall(t.url, 'ghost-x', 'wrong password', '10.9.9.9, 203.0.113.5');
    expect(spoofed.status).toBe(429);
  });

  it('item 4: IPv6 addresses in one /64 share a key', async () => {
    let n = 0;
    const attempts = await failUntilThrottled(t.url, () => `2001:db8:1:2::${(++n).toString(16)}`);
    expect(attempts).toBeLessThanOrEqual(PER_SOURCE + 1);
    expect((await adminCall(t.url, 'ghost-y', 'wrong password', '2001:db8:1:2:ffff::1')).status).toBe(429);
    // The next /64 is another subscriber.
    expect((await adminCall(t.url, 'ghost-y', 'wrong password', '2001:db8:1:3::1')).status).toBe(401);
  });

  it('item 4: 20+ bad passwords for the admin from one source do not stop the admin logging in from another', async () => {
    let throttled = 0;
    for (let i = 0; i < 25; i++) {
      const res = await adminCall(t.url, ADMIN.username, `guess ${i}`, '203.0.113.77');
      expect([401, 429]).toContain(res.status);
      if (res.status === 429) throttled++;
    }
    // The attacker's source is paused (with growing delays), the admin elsewhere is not.
    expect(throttled).toBeGreaterThan(15);
    expect((await adminCall(t.url, ADMIN.username, ADMIN.password, '198.51.100.200')).status).toBe(200);
    expect((await adminCall(t.url, ADMIN.username, ADMIN.password, '203.0.113.77')).status).toBe(429);
  });
});
