import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig, type Logger } from '@picard/service-kit';
import { testLogger, withInternalKey } from '@picard/service-kit/testing';
import { authConfigSchema } from '../../src/config.js';
import { startAuthService } from '../../src/service.js';
import { ADMIN, asUser, startHarness, type Harness } from './harness.js';

const KEY = randomBytes(32).toString('base64');

/**
 * PICARD_ADMIN_* is applied at start when it changed since it was last applied, not at every
 * start: an unchanged start hashes no password, and a password the admin changed is kept.
 */
describe('auth-service: the configured admin across restarts', () => {
  let h: Harness;
  // Stopping a service closes its database (an embedded PGlite is shared here): all stop at the end.
  const restarted: { stop(): Promise<void> }[] = [];
  beforeAll(async () => {
    h = await startHarness({ AUTH_KEY_ENCRYPTION_KEY: KEY });
  });
  afterAll(async () => {
    for (const s of restarted) await s.stop().catch(() => undefined);
    await h?.close().catch(() => undefined);
  });

  /** Starts a second instance on the same data with these admin settings; returns what it logged. */
  async function restart(env: Record<string, string>) {
    const lines: string[] = [];
    const logger = testLogger();
    logger.info = ((_obj: unknown, msg?: string) => void lines.push(msg ?? '')) as Logger['info'];
    const service = await startAuthService({
      config: loadConfig(
        authConfigSchema,
        withInternalKey({ PICARD_ADMIN_USERNAME: ADMIN.username, PICARD_ADMIN_EMAIL: ADMIN.email, ...env }),
      ),
      database: h.database,
      schema: h.schema,
      bus: h.bus,
      logger,
      grpcHost: '127.0.0.1',
      grpcPort: 0,
    });
    restarted.push(service);
    return lines.filter((l) => /^admin account/.test(l));
  }
  const signsIn = (password: string) =>
    h.service.domain.users.authenticate(ADMIN.username, password).then(
      () => true,
      () => false,
    );

  it('keeps a password the admin changed when the settings did not change; applies changed settings', async () => {
    const admin = await h.service.domain.users.authenticate(ADMIN.username, ADMIN.password);
    // The harness's start applied the settings once; the same settings again change nothing.
    expect(await restart({ PICARD_ADMIN_PASSWORD: ADMIN.password, AUTH_KEY_ENCRYPTION_KEY: KEY })).toEqual([
      'admin account kept: PICARD_ADMIN_* unchanged since last applied',
    ]);

    await h.service.domain.users.changePassword(asUser(admin.id), {
      userId: admin.id,
      currentPassword: ADMIN.password,
      newPassword: 'the admin chose this one',
    });
    expect(await restart({ PICARD_ADMIN_PASSWORD: ADMIN.password, AUTH_KEY_ENCRYPTION_KEY: KEY })).toEqual([
      'admin account kept: PICARD_ADMIN_* unchanged since last applied',
    ]);
    expect(await signsIn('the admin chose this one')).toBe(true);
    expect(await signsIn(ADMIN.password)).toBe(false);

    // The operator resets it by configuring another password.
    expect(
      await restart({ PICARD_ADMIN_PASSWORD: 'operator reset password', AUTH_KEY_ENCRYPTION_KEY: KEY }),
    ).toEqual(['admin account set from PICARD_ADMIN_*']);
    expect(await signsIn('operator reset password')).toBe(true);
    expect(await signsIn('the admin chose this one')).toBe(false);

    // What is stored says nothing about the password without the key.
    const rows = await h.knex('configured_admin').select();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain('operator reset password');

    // A deactivated admin is brought back by the next start, settings unchanged or not.
    await h.knex('users').where({ id: admin.id }).update({ active: false });
    expect(
      await restart({ PICARD_ADMIN_PASSWORD: 'operator reset password', AUTH_KEY_ENCRYPTION_KEY: KEY }),
    ).toEqual(['admin account set from PICARD_ADMIN_*']);
    expect(await signsIn('operator reset password')).toBe(true);
  }, 60_000);
});
