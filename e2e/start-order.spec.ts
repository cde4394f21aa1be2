import { afterAll, describe, expect, it } from '@jest/globals';
import { loadConfig, type Logger } from '@picard/service-kit';
import {
  openTestDatabase,
  openTestEventBus,
  testLogger,
  uniqueSchema,
  withInternalKey,
} from '@picard/service-kit/testing';
import { authConfigSchema, startAuthService } from '@picard/auth-service';
import { embeddingConfigSchema, startEmbeddingService } from '@picard/embedding-service';
import { memoryConfigSchema, startMemoryService } from '@picard/memory-service';
import { gatewayConfigSchema, startGateway } from '@picard/gateway';
import { laterPort, request } from './support/test-stack.js';

/** A logger that keeps what it was told, so a test can read "waiting for …". */
function recordingLogger() {
  const lines: string[] = [];
  const logger = testLogger();
  for (const level of ['info', 'warn'] as const)
    logger[level] = ((obj: unknown, msg?: string) =>
      void lines.push(typeof obj === 'string' ? obj : (msg ?? ''))) as Logger['warn'];
  return { logger, lines };
}

const settle = <T>(p: Promise<T>) => {
  const state = { done: false };
  p.then(
    () => (state.done = true),
    () => (state.done = true),
  );
  return state;
};

/**
 * Issue #12: start order must not matter. Render starts services in any order and compose's
 * depends_on waits for nothing, so a service started before the ones it needs waits for them
 * (saying so in its log, and the gateway on /health) instead of exiting.
 */
describe('start order: a service started before its dependencies waits for them', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('the gateway started before auth-service answers 503 naming what it waits for, then serves', async () => {
    const [authPort, gatewayPort] = [await laterPort(), await laterPort()];
    const url = `http://127.0.0.1:${gatewayPort}`;
    const bus = await openTestEventBus('start-order');
    cleanups.push(() => bus.close());
    const { logger, lines } = recordingLogger();
    const starting = startGateway({
      config: loadConfig(gatewayConfigSchema, withInternalKey({})),
      logger,
      bus,
      addresses: {
        auth: `127.0.0.1:${authPort}`,
        memory: `127.0.0.1:${await laterPort()}`,
        embedding: `127.0.0.1:${await laterPort()}`,
        persona: `127.0.0.1:${await laterPort()}`,
      },
      host: '127.0.0.1',
      port: gatewayPort,
    });
    const gateway = settle(starting);
    cleanups.push(async () => (await starting).stop());

    // It listens at once and says what it waits for; every other route answers 503, never a crash.
    await until(() => lines.some((l) => /waiting for auth-service/.test(l)));
    const health = await request('GET', `${url}/health`);
    expect(health.status).toBe(503);
    expect(health.json).toMatchObject({ status: 'starting', waiting_for: 'auth-service (AUTH_GRPC_ADDR)' });
    const tool = await request(
      'POST',
      `${url}/api/tools/query_memory`,
      { authorization: 'Bearer x' },
      { query: 'q' },
    );
    expect(tool.status).toBe(503);
    expect(tool.headers.get('retry-after')).toBe('2');
    expect(tool.json).toMatchObject({
      error: 'unavailable',
      message: expect.stringMatching(/waiting for auth-service/),
    });
    expect(gateway.done).toBe(false);

    // auth-service comes up on the address the gateway was given: the gateway finishes starting.
    const db = await openTestDatabase();
    const schema = uniqueSchema('auth');
    const auth = await startAuthService({
      config: loadConfig(authConfigSchema, withInternalKey({})),
      database: db.target,
      schema,
      bus,
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: authPort,
    });
    cleanups.push(
      () => db.cleanup(schema),
      () => auth.stop(),
    );
    await starting;
    expect(lines).toContain('auth-service (AUTH_GRPC_ADDR) is up');
    expect((await request('GET', `${url}/health`)).json.status).not.toBe('starting');
    // Token checks work now: a bad token is refused as such.
    expect(
      (await request('POST', `${url}/api/tools/query_memory`, { authorization: 'Bearer x' }, { query: 'q' }))
        .status,
    ).toBe(401);
  }, 60_000);

  it('memory-service started before embedding-service waits for the model, then starts', async () => {
    const embeddingPort = await laterPort();
    const { logger, lines } = recordingLogger();
    const db = await openTestDatabase();
    const schema = uniqueSchema('memory');
    cleanups.push(() => db.cleanup(schema));
    const starting = startMemoryService({
      config: loadConfig(
        memoryConfigSchema,
        withInternalKey({ MEMORY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` }),
      ),
      logger,
      database: db.target,
      schema,
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      embeddingAddress: `127.0.0.1:${embeddingPort}`,
    });
    const memory = settle(starting);
    cleanups.push(async () => (await starting).stop());
    await until(() => lines.some((l) => /waiting for embedding-service/.test(l)));
    expect(memory.done).toBe(false);

    const embedding = await startEmbeddingService({
      config: loadConfig(embeddingConfigSchema, withInternalKey({})),
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: embeddingPort,
    });
    cleanups.push(() => embedding.stop());
    const service = await starting;
    expect(service.embedding.dimensions).toBeGreaterThan(0);
    expect(lines.some((l) => /embedding-service .* is up/.test(l))).toBe(true);
  }, 120_000);
});

/** Polls a condition every 50 ms for up to 30 s (the services' first retries come within a second). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met within 30 s');
}
