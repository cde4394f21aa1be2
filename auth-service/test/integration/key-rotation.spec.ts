import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { authPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  createGrpcClient,
  loadConfig,
  openPglite,
  type Caller,
  type DatabaseTarget,
  type EventBus,
} from '@picard/service-kit';
import {
  openTestEventBus,
  testLogger,
  testMode,
  uniqueSchema,
  withInternalKey,
  testTokens,
} from '@picard/service-kit/testing';
import { authConfigSchema } from '../../src/config.js';
import { startAuthService, type AuthServiceHandle } from '../../src/service.js';
import { ADMIN, asUser, waitFor } from './harness.js';

const issuer = 'http://localhost:8001';
const TTL = 3600;
const AHEAD = 300;
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
const cluster = testMode() === 'cluster';

/** Real instances over one database that outlives them (a PGlite directory when embedded, so restarts are real). */
describe('auth-service: signing key rotation', () => {
  let nowMs = Date.now();
  const clock = () => new Date(nowMs);
  const advance = (seconds: number) => (nowMs += seconds * 1000);
  const schema = uniqueSchema('auth');
  let dir: string | undefined;
  let target: DatabaseTarget;
  let bus: EventBus;
  const running: { service: AuthServiceHandle; client: authPb.AuthServiceClient }[] = [];
  let a: (typeof running)[number];
  let b: (typeof running)[number] | undefined;
  let creds: { id: string; secret: string };

  const openTarget = async (): Promise<DatabaseTarget> => {
    if (cluster) return { kind: 'postgres', url: process.env.PICARD_TEST_DATABASE_URL! };
    dir ??= await mkdtemp(join(tmpdir(), 'auth-keys-'));
    return { kind: 'pglite', pglite: await openPglite(dir) };
  };

  const start = async (env: Record<string, string> = {}, checkIntervalMs = 3_600_000) => {
    const config = loadConfig(
      authConfigSchema,
      withInternalKey({
        PICARD_ADMIN_USERNAME: ADMIN.username,
        PICARD_ADMIN_PASSWORD: ADMIN.password,
        AUTH_KEY_ENCRYPTION_KEY: ENCRYPTION_KEY,
        ...env,
      }),
    );
    const service = await startAuthService({
      config,
      database: target,
      schema,
      bus,
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      signingKeys: { now: clock, checkIntervalMs },
    });
    const instance = {
      service,
      client: createGrpcClient(authPb.AuthServiceClient, service.grpc.address, testTokens()),
    };
    running.push(instance);
    return instance;
  };
  const stop = async (i: (typeof running)[number]) => {
    running.splice(running.indexOf(i), 1);
    i.client.close();
    await i.service.stop();
  };

  const call = <Res>(
    i: (typeof running)[number],
    method: string,
    request: unknown,
    caller?: Caller,
  ): Promise<Res> => {
    const fn = (i.client as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!.bind(
      i.client,
    );
    return callUnary(fn as never, request, caller ? callerMetadata(caller) : undefined);
  };
  const jwks = async (i = a) =>
    JSON.parse((await call<authPb.Jwks>(i, 'getJwks', {})).keysJson) as JSONWebKeySet;
  const kids = async (i = a) => (await jwks(i)).keys.map((k) => k.kid);
  const issue = async (i = a) =>
    (
      await call<authPb.TokenResponse>(i, 'issueUserToken', {
        clientId: creds.id,
        clientSecret: creds.secret,
        username: 'rotating-user',
        email: 'rotating@example.com',
        createIfMissing: true,
      })
    ).accessToken;
  const kidOf = (token: string) => decodeProtectedHeader(token).kid;
  const verify = async (token: string, i = a) =>
    jwtVerify(token, createLocalJWKSet(await jwks(i)), { issuer, audience: issuer });
  const rows = () => a.service.knex('signing_keys').orderBy('activates_at');

  beforeAll(async () => {
    target = await openTarget();
    bus = await openTestEventBus(`auth-keys-${schema}`);
    a = await start();
    const admin = await call<authPb.User>(a, 'authenticateUser', {
      username: ADMIN.username,
      password: ADMIN.password,
    });
    const reg = await call<authPb.RegisteredClient>(
      a,
      'registerClient',
      {
        clientName: 'First party',
        redirectUris: [],
        scopes: ['memories:read'],
        grantTypes: [],
        tokenEndpointAuthMethod: '',
        firstParty: true,
      },
      asUser(admin.id, ['memories:admin']),
    );
    creds = { id: reg.client!.clientId, secret: reg.clientSecret! };
    // A second instance on the same schema (PGlite has one backend, so only the cluster run has two).
    if (cluster) b = await start({}, 50);
  });
  afterAll(async () => {
    for (const i of [...running].reverse()) await stop(i);
    await bus?.close();
    if (cluster) {
      const knexFactory = (await import('knex')).default;
      const k = knexFactory({ client: 'pg', connection: process.env.PICARD_TEST_DATABASE_URL! });
      await k.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await k.destroy();
    } else if (target?.kind === 'pglite' && !target.pglite.closed) {
      await target.pglite.close();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('publishes the next key ahead, signs with it from activates_at, and unpublishes the old one after the last token expires', async () => {
    const [first] = await kids();
    const oldToken = await issue();
    expect(kidOf(oldToken)).toBe(first);

    const next = await a.service.domain.keys.rotateNow();
    expect(next.activatesAt.getTime()).toBe(nowMs + AHEAD * 1000);
    expect(await kids()).toEqual([first, next.kid]);
    // Asking again while a key waits to sign returns that key rather than stacking another.
    expect((await a.service.domain.keys.rotateNow()).kid).toBe(next.kid);
    const stored = await rows();
    expect(stored).toHaveLength(2);
    expect(new Date(stored[0].retired_at).getTime()).toBe(next.activatesAt.getTime());

    // The other instance learns of the new key from its periodic re-read of the table.
    // jwks() answers from the rows last read (currentJwks() would read afresh): wait for the timer's read.
    const second = b;
    if (second) await waitFor(() => second.service.domain.keys.jwks().keys.find((k) => k.kid === next.kid));
    // Until activates_at the old key still signs, on every instance.
    advance(AHEAD - 1);
    expect(kidOf(await issue())).toBe(first);
    if (b) expect(kidOf(await issue(b))).toBe(first);

    advance(1);
    const newToken = await issue();
    expect(kidOf(newToken)).toBe(next.kid);
    if (b) expect(kidOf(await issue(b))).toBe(next.kid);
    expect((await verify(newToken)).protectedHeader.kid).toBe(next.kid);
    expect((await verify(oldToken)).protectedHeader.kid).toBe(first);

    // The old key stays published until retired_at + the token lifetime...
    advance(TTL - 1);
    expect(await kids()).toEqual([first, next.kid]);
    await verify(oldToken);
    // ...then leaves the JWKS (every instance), and the periodic check deletes it.
    advance(1);
    expect(await kids()).toEqual([next.kid]);
    if (b) expect(await kids(b)).toEqual([next.kid]);
    await expect(verify(oldToken)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await verify(newToken);
    await a.service.domain.keys.check();
    expect((await rows()).map((r) => r.kid)).toEqual([next.kid]);
  });

  it('rotates on its own once the signing key is older than the period, creating one key for concurrent checks', async () => {
    // Only the checks below may rotate: the other instance's timer would win the race otherwise.
    await b?.service.domain.keys.stop();
    const before = await rows();
    expect(await a.service.domain.keys.check()).toBeUndefined();
    advance(30 * 86400);
    const checks = [a, a, a, ...(b ? [b, b, b] : [])].map((i) => i.service.domain.keys.check());
    const created = (await Promise.all(checks)).filter((c) => c !== undefined);
    expect(created).toHaveLength(1);
    const after = await rows();
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({ kid: created[0]!.kid, retired_at: null });
    expect(new Date(after.at(-1).activates_at).getTime()).toBe(nowMs + AHEAD * 1000);
    // A newer key is pending: no further rotation.
    expect(await a.service.domain.keys.check()).toBeUndefined();
    expect(await rows()).toHaveLength(after.length);
    advance(AHEAD);
    expect(kidOf(await issue())).toBe(created[0]!.kid);
  });

  it('stores private keys encrypted and keeps using the same keys after a restart', async () => {
    const stored = await rows();
    for (const r of stored) {
      expect(r.private_jwk).toMatchObject({ enc: 'A256GCM' });
      expect(r.private_jwk).not.toHaveProperty('d');
    }
    const published = await kids();
    const signingKid = kidOf(await issue());
    for (const i of [...running].reverse()) await stop(i);
    b = undefined;

    // Without the encryption key the service refuses to start rather than fail at the first login.
    target = await openTarget();
    await expect(start({ AUTH_KEY_ENCRYPTION_KEY: '' })).rejects.toThrow(
      /AUTH_KEY_ENCRYPTION_KEY is required/,
    );
    target = await openTarget();
    await expect(start({ AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 8).toString('base64') })).rejects.toThrow(
      /does not decrypt/,
    );

    target = await openTarget();
    a = await start({ AUTH_SIGNING_KEY_ROTATION_DAYS: '0' });
    expect(await kids()).toEqual(published);
    expect(kidOf(await issue())).toBe(signingKid);
    // 0 turns automatic rotation off: a year later the same key still signs.
    advance(365 * 86400);
    expect(await a.service.domain.keys.check()).toBeUndefined();
    expect(kidOf(await issue())).toBe(signingKid);
    expect(await rows()).toHaveLength(1);
  });

  it('validates the rotation settings and names the variable', () => {
    const bad = (env: Record<string, string>) => () => loadConfig(authConfigSchema, withInternalKey(env));
    expect(bad({ AUTH_SIGNING_KEY_ROTATION_DAYS: '-1' })).toThrow(
      /AUTH_SIGNING_KEY_ROTATION_DAYS.*must be 0 or more/,
    );
    expect(bad({ AUTH_SIGNING_KEY_ROTATION_DAYS: '1.5' })).toThrow(/AUTH_SIGNING_KEY_ROTATION_DAYS/);
    expect(bad({ AUTH_SIGNING_KEY_PUBLISH_AHEAD_SECONDS: 'soon' })).toThrow(
      /AUTH_SIGNING_KEY_PUBLISH_AHEAD_SECONDS/,
    );
    expect(bad({ AUTH_SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '86401' })).toThrow(
      /AUTH_SIGNING_KEY_PUBLISH_AHEAD_SECONDS.*at most 86400/,
    );
    expect(bad({ AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })).toThrow(
      /AUTH_KEY_ENCRYPTION_KEY=\(hidden\): must be the base64 of exactly 32 bytes/,
    );
    const ok = loadConfig(authConfigSchema, withInternalKey({}));
    expect(ok).toMatchObject({
      AUTH_SIGNING_KEY_ROTATION_DAYS: 30,
      AUTH_SIGNING_KEY_PUBLISH_AHEAD_SECONDS: 300,
    });
    expect(ok.AUTH_KEY_ENCRYPTION_KEY).toBeUndefined();
  });
});
