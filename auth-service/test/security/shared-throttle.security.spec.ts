import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { authPb, rateLimitPb } from '@picard/proto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  callUnary,
  createGrpcClient,
  DomainError,
  loadConfig,
  openPglite,
  RateLimitedError,
  type DatabaseTarget,
  type EventBus,
} from '@picard/service-kit';
import {
  openTestDatabase,
  openTestEventBus,
  testLogger,
  testMode,
  testTokens,
  uniqueSchema,
  withInternalKey,
  type TestDatabase,
} from '@picard/service-kit/testing';
import { authConfigSchema } from '../../src/config.js';
import { startAuthService, type AuthServiceHandle } from '../../src/service.js';
import { ADMIN } from '../integration/harness.js';

const cluster = testMode() === 'cluster';

/**
 * Issue #11, item 4: login counters (and the gateway's rate limits) live in auth-service's database,
 * so instances on one database share them. With PostgreSQL two instances run side by side; PGlite
 * has one backend, so the embedded run hands the database from one instance to the next.
 */
describe('item 4: auth-service instances on one database share the throttling counters', () => {
  const schema = uniqueSchema('auth');
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  let bus: EventBus;
  /** PostgreSQL: the one test database. PGlite: a directory, reopened by each instance (stop() closes it). */
  const target = async (): Promise<DatabaseTarget> =>
    db ? db.target : { kind: 'pglite', pglite: await openPglite(dir!) };
  const running: {
    service: AuthServiceHandle;
    auth: authPb.AuthServiceClient;
    limits: rateLimitPb.RateLimitServiceClient;
  }[] = [];

  const start = async () => {
    const config = loadConfig(
      authConfigSchema,
      withInternalKey({
        PICARD_ADMIN_USERNAME: ADMIN.username,
        PICARD_ADMIN_PASSWORD: ADMIN.password,
        AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
        AUTH_LOGIN_MAX_FAILURES_PER_IP: '50',
      }),
    );
    const service = await startAuthService({
      config,
      database: await target(),
      schema,
      bus,
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: 0,
    });
    const instance = {
      service,
      auth: createGrpcClient(authPb.AuthServiceClient, service.grpc.address, testTokens()),
      limits: createGrpcClient(rateLimitPb.RateLimitServiceClient, service.grpc.address, testTokens()),
    };
    running.push(instance);
    return instance;
  };
  const stop = async (i: (typeof running)[number]) => {
    running.splice(running.indexOf(i), 1);
    i.auth.close();
    i.limits.close();
    await i.service.stop();
  };
  const login = (i: (typeof running)[number], password: string, remoteIp: string) =>
    callUnary(i.auth.authenticateUser.bind(i.auth), { username: ADMIN.username, password, remoteIp }).then(
      () => 'ok',
      (e: DomainError) => e,
    );
  const consume = (i: (typeof running)[number]) =>
    callUnary(i.limits.consume.bind(i.limits), {
      limit: 'signup',
      key: '203.0.113.1',
      points: 3,
      windowSeconds: 3600,
    });

  beforeAll(async () => {
    if (cluster) db = await openTestDatabase();
    else dir = await mkdtemp(join(tmpdir(), 'auth-throttle-'));
    bus = await openTestEventBus(`auth-shared-${schema}`);
  });
  afterAll(async () => {
    for (const i of [...running].reverse()) await stop(i);
    await bus?.close();
    await db?.cleanup(schema);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('item 4: failures counted by one instance pause the source on the other; gateway budgets are shared too', async () => {
    const a = await start();
    // Two of the three allowed failures, and two of three sign-up points, through instance A.
    expect(await login(a, 'wrong one', '203.0.113.1')).toBeInstanceOf(DomainError);
    expect(await login(a, 'wrong two', '203.0.113.1')).toBeInstanceOf(DomainError);
    expect((await consume(a)).allowed).toBe(true);
    expect((await consume(a)).allowed).toBe(true);

    let b = a;
    if (cluster) b = await start();
    else {
      await stop(a);
      b = await start();
    }
    // The third failure, through B, pauses the pair; B and (when running) A both refuse even the right password.
    const third = await login(b, 'wrong three', '203.0.113.1');
    expect((third as DomainError).code).toBe('unauthenticated');
    for (const i of running) {
      const refused = await login(i, ADMIN.password, '203.0.113.1');
      expect(refused).toBeInstanceOf(RateLimitedError);
      expect((refused as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
      // ...while the admin signs in from another source.
      expect(await login(i, ADMIN.password, '198.51.100.1')).toBe('ok');
    }
    expect((await consume(b)).allowed).toBe(true);
    const over = await consume(b);
    expect(over.allowed).toBe(false);
    expect(over.retryAfterSeconds).toBeGreaterThan(0);
  });
});
