import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { authPb } from '@picard/proto';
import { loadConfig } from '@picard/service-kit';
import { testLogger } from '@picard/service-kit/testing';
import { authConfigSchema } from '../../src/config.js';
import { startAuthService } from '../../src/service.js';
import { ADMIN, startHarness, type Harness } from '../integration/harness.js';

/** Issue #11, auth-service items: each test reproduces the attack and failed before the fix. */
describe('security: auth-service (issue #11)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('item 10: PICARD_ADMIN_USERNAME naming an existing ordinary account is refused, naming the variable', async () => {
    const mallory = await h.call<authPb.User>('registerUser', {
      username: 'mallory',
      email: 'mallory@example.com',
      password: 'mallory owns this one',
      displayName: '',
    });
    await expect(
      h.service.domain.users.ensureAdmin({ username: 'Mallory', password: 'operator chosen password' }),
    ).rejects.toMatchObject({ code: 'unprocessable', field: 'username' });
    expect((await h.knex('users').where({ id: mallory.id }).first()).is_admin).toBe(false);
    // The holder keeps their own password; the operator's never reached the account.
    await expect(
      h.call('authenticateUser', { username: 'mallory', password: 'operator chosen password' }),
    ).rejects.toThrow(/invalid username or password/);
    // The real admin's password can still be reset the same way.
    const admin = await h.service.domain.users.ensureAdmin({
      username: ADMIN.username,
      password: ADMIN.password,
    });
    expect(admin.is_admin).toBe(true);

    // At start-up the error names the variable. (A failed start closes an in-memory PGlite: own harness.)
    const other = await startHarness();
    try {
      await other.call('registerUser', {
        username: 'mallory',
        email: 'mallory@example.com',
        password: 'mallory owns this one',
        displayName: '',
      });
      const second = startAuthService({
        config: loadConfig(authConfigSchema, {
          PICARD_ADMIN_USERNAME: 'Mallory',
          PICARD_ADMIN_PASSWORD: 'operator chosen password',
        }),
        database: other.database,
        schema: other.schema,
        bus: other.bus,
        logger: testLogger(),
        grpcHost: '127.0.0.1',
        grpcPort: 0,
      });
      await expect(second).rejects.toThrow(
        /^PICARD_ADMIN_USERNAME: "Mallory" is an existing ordinary account/,
      );
    } finally {
      await other.close().catch(() => undefined);
    }
  });
});
