import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, scryptSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { authPb } from '@picard/proto';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { testLogger, withInternalKey } from '@picard/service-kit/testing';
import { authConfigSchema } from '../../src/config.js';
import { startAuthService } from '../../src/service.js';
import { ADMIN, asUser, expectError, startHarness, type Harness } from '../integration/harness.js';
import { oauth, pkce, params } from '../integration/oauth-helpers.js';

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
    // Each case: a fresh database where "mallory" is an ordinary account, and a start naming her the admin.
    const startNamingMallory = async (adminInBackground: boolean) => {
      const harness = await startHarness();
      await harness.call('registerUser', {
        username: 'mallory',
        email: 'mallory@example.com',
        password: 'mallory owns this one',
        displayName: '',
      });
      const starting = startAuthService({
        config: loadConfig(
          authConfigSchema,
          withInternalKey({
            PICARD_ADMIN_USERNAME: 'Mallory',
            PICARD_ADMIN_PASSWORD: 'operator chosen password',
          }),
        ),
        database: harness.database,
        schema: harness.schema,
        bus: harness.bus,
        logger: testLogger(),
        grpcHost: '127.0.0.1',
        grpcPort: 0,
        adminInBackground,
      });
      return { harness, starting };
    };
    const refusal = /^PICARD_ADMIN_USERNAME: "Mallory" is an existing ordinary account/;
    const other = await startNamingMallory(false);
    try {
      await expect(other.starting).rejects.toThrow(refusal);
    } finally {
      await other.harness.close().catch(() => undefined);
    }
    // The embedded stack applies the admin in the background and awaits it before it is ready:
    // the same refusal, from adminEnsured, and the account stays ordinary.
    const third = await startNamingMallory(true);
    try {
      const background = await third.starting;
      await expect(background.adminEnsured).rejects.toThrow(refusal);
      const mallory = await background.domain.users.authenticate('mallory', 'mallory owns this one');
      expect(mallory.is_admin).toBe(false);
      await background.stop();
    } finally {
      await third.harness.close().catch(() => undefined);
    }
  });

  it('item 11: introspection needs a confidential client; scrypt N >= 2^17 with rehash on login; new passwords >= 12 and not common; sign-up "taken" costs a sign-up', async () => {
    // Introspection: a public client names itself with client_id alone, which anyone can do.
    const REDIRECT = 'https://public.example.com/cb';
    const pub = (
      await h.call<authPb.RegisteredClient>('registerDynamicClient', {
        clientName: 'public',
        redirectUris: [REDIRECT],
        scopes: [],
        grantTypes: [],
        tokenEndpointAuthMethod: 'none',
        firstParty: false,
        remoteIp: '',
      })
    ).client!;
    const user = await h.call<authPb.User>('registerUser', {
      username: 'ivy',
      email: 'ivy@example.com',
      password: 'ivy has a long one',
      displayName: '',
    });
    const { verifier, challenge } = pkce();
    const { redirectTo } = await h.call<authPb.AuthorizeResponse>(
      'authorize',
      {
        userId: user.id,
        clientId: pub.clientId,
        redirectUri: REDIRECT,
        scope: 'memories:read',
        state: '',
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        resource: '',
        approved: true,
      },
      asUser(user.id),
    );
    const tokens = await oauth(h, 'token', {
      grant_type: 'authorization_code',
      code: params(redirectTo).code!,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: pub.clientId,
    });
    expect(tokens.status).toBe(200);
    const probe = await oauth(h, 'introspect', {
      token: String(tokens.body.access_token),
      client_id: pub.clientId,
    });
    expect(probe).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(probe.body.active).toBeUndefined();

    // scrypt: new hashes use N = 2^17; an old N = 2^15 hash still verifies and is replaced at login.
    expect((await h.knex('users').where({ id: user.id }).first()).password_hash).toMatch(
      /^scrypt\$ln=17,r=8,p=1\$/,
    );
    const salt = randomBytes(16);
    const oldKey = scryptSync('legacy user password', salt, 32, {
      N: 2 ** 15,
      r: 8,
      p: 1,
      maxmem: 64 * 1024 * 1024,
    });
    await h
      .knex('users')
      .where({ id: user.id })
      .update({
        password_hash: `scrypt$ln=15,r=8,p=1$${salt.toString('base64')}$${oldKey.toString('base64')}`,
      });
    await h.call('authenticateUser', { username: 'ivy', password: 'legacy user password' });
    const rehashed = (await h.knex('users').where({ id: user.id }).first()).password_hash as string;
    expect(rehashed).toMatch(/^scrypt\$ln=17,r=8,p=1\$/);
    expect(
      (await h.call<authPb.User>('authenticateUser', { username: 'ivy', password: 'legacy user password' }))
        .id,
    ).toBe(user.id);

    // New passwords: at least 12 characters, and not on the common-password list (any case).
    const signUp = (username: string, password: string) =>
      h.call<authPb.User>('registerUser', {
        username,
        email: `${username}@example.com`,
        password,
        displayName: '',
      });
    await expectError(signUp('jack', 'eleven-char'), 'invalid_argument', 'password', /at least 12/);
    await expectError(signUp('jack', 'QWERTY123456'), 'invalid_argument', 'password', /commonly used/);
    await expectError(
      h.call(
        'changePassword',
        { userId: user.id, currentPassword: 'legacy user password', newPassword: 'qazwsxedcrfv' },
        asUser(user.id),
      ),
      'invalid_argument',
      'new_password',
      /commonly used/,
    );

    // "This username is taken" takes as long as a real sign-up (the password is hashed first), so the
    // form is no faster a way to list usernames than signing up. Two of each, alternated, and the
    // quickest of each compared: one sample of either can be slowed by the other suites on the machine.
    const timed = async (work: () => Promise<unknown>) => {
      const t0 = performance.now();
      await work();
      return performance.now() - t0;
    };
    const fresh: number[] = [];
    const taken: number[] = [];
    for (const name of ['kim', 'lou']) {
      fresh.push(await timed(() => signUp(name, `${name} chose this one`)));
      taken.push(
        await timed(() => expectError(signUp(name, 'another long password'), 'already_exists', 'username')),
      );
    }
    expect(Math.min(...taken)).toBeGreaterThan(Math.min(...fresh) * 0.4);
  });

  it('item 9: signing keys are encrypted at rest (plain ones on start), and cluster mode requires AUTH_KEY_ENCRYPTION_KEY', async () => {
    const cluster = withInternalKey({ DATABASE_URL: 'postgres://db.example/picard' });
    expect(() => loadConfig(authConfigSchema, cluster)).toThrow(ConfigError);
    expect(() => loadConfig(authConfigSchema, cluster)).toThrow(/AUTH_KEY_ENCRYPTION_KEY/);

    // A deployment from before: its key is stored in plain. Started with a key, the row is sealed.
    const plain = await startHarness();
    try {
      const [before] = await plain.knex('signing_keys').select('kid', 'private_jwk');
      const stored = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
      expect(stored(before.private_jwk).d).toEqual(expect.any(String));
      const key = randomBytes(32).toString('base64');
      const sealed = await startAuthService({
        config: { ...plain.config, AUTH_KEY_ENCRYPTION_KEY: key },
        database: plain.database,
        schema: plain.schema,
        bus: plain.bus,
        logger: testLogger(),
        grpcHost: '127.0.0.1',
        grpcPort: 0,
      });
      const [after] = await plain.knex('signing_keys').select('kid', 'private_jwk');
      expect(after.kid).toBe(before.kid);
      expect(stored(after.private_jwk)).toMatchObject({ enc: 'A256GCM' });
      expect(JSON.stringify(after.private_jwk)).not.toContain(String(stored(before.private_jwk).d));
      // The same key still signs, so tokens issued before stay valid.
      const signed = await sealed.domain.keys.signAccessToken({
        userId: crypto.randomUUID(),
        clientId: 'c',
        scope: ['memories:read'],
      });
      expect(await plain.service.domain.keys.verifyAccessToken(signed.token)).toBeDefined();
      await sealed.stop();
    } finally {
      await plain.close().catch(() => undefined);
    }
  });

  it('item 6: dynamic registration is a quota per source, not one global cap; metadata-document clients are capped and cleaned up', async () => {
    const register = (remoteIp: string) =>
      h.call<authPb.RegisteredClient>('registerDynamicClient', {
        clientName: 'flood',
        redirectUris: ['https://flood.example/cb'],
        scopes: [],
        grantTypes: [],
        tokenEndpointAuthMethod: 'none',
        firstParty: false,
        remoteIp,
      });
    // One attacker (addresses of one IPv6 /64) spends its own quota of 10 an hour...
    for (let i = 0; i < 10; i++) await register(`2001:db8:1:2::${(i + 1).toString(16)}`);
    await expectError(
      register('2001:db8:1:2:ffff:ffff:ffff:ffff'),
      'resource_exhausted',
      undefined,
      /your address/,
    );
    // ...and everyone else can still register.
    expect((await register('2001:db8:9:9::1')).client!.clientId).toEqual(expect.any(String));
    expect((await register('192.0.2.7')).client!.clientId).toEqual(expect.any(String));

    // Metadata-document clients: at most AUTH_CIMD_MAX_CLIENTS rows; rows unused for the retention
    // period are deleted to make room.
    const server = http.createServer((req, res) => {
      const path = req.url ?? '';
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          client_id: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
          client_name: `Host ${path}`,
          redirect_uris: ['http://127.0.0.1:9/cb'],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = (n: number) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/c${n}.json`;
    const capped = await startHarness({ AUTH_CIMD_ALLOW_LOOPBACK: 'true', AUTH_CIMD_MAX_CLIENTS: '2' });
    try {
      const check = (clientId: string) =>
        capped.call<authPb.AuthorizationCheck>('checkAuthorization', {
          userId: '',
          clientId,
          redirectUri: 'http://127.0.0.1:9/cb',
          scope: '',
          state: '',
          codeChallenge: 'x'.repeat(43),
          codeChallengeMethod: 'S256',
          resource: '',
          approved: false,
        });
      expect((await check(url(1))).error).toBe('');
      expect((await check(url(2))).error).toBe('');
      const refused = await check(url(3));
      expect(refused).toMatchObject({ error: 'invalid_request', redirectTrusted: false });
      expect(refused.errorDescription).toMatch(/too many metadata-document clients/);
      // Known clients keep working at the cap.
      expect((await check(url(1))).error).toBe('');
      // c2 has not been presented for 31 days: it makes room for c3.
      await capped
        .knex('clients')
        .where({ metadata_url: url(2) })
        .update({ last_used_at: new Date(Date.now() - 31 * 86_400_000) });
      expect((await check(url(3))).error).toBe('');
      expect(
        await capped
          .knex('clients')
          .where({ metadata_url: url(2) })
          .first(),
      ).toBeUndefined();
      expect(
        await capped
          .knex('clients')
          .where({ metadata_url: url(1) })
          .first(),
      ).toBeDefined();
    } finally {
      await capped.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
