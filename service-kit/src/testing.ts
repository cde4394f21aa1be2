import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { openPglite, type DatabaseTarget } from './database.js';
import { InProcessEventBus } from './events/in-process-bus.js';
import { NatsEventBus } from './events/nats-bus.js';
import type { EventBus } from './events/event-bus.js';
import { createLogger } from './logger.js';
import { InternalTokens } from './internal-token.js';

/**
 * Test wiring for both run modes. With PICARD_TEST_DATABASE_URL / PICARD_TEST_NATS_URL set
 * (CI's cluster pass) suites use the real PostgreSQL and NATS; otherwise an in-memory PGlite and
 * the in-process bus. Nothing here is a mock: both are the production adapters.
 */
export const testMode = (): 'cluster' | 'embedded' =>
  process.env.PICARD_TEST_DATABASE_URL ? 'cluster' : 'embedded';

/** The internal key of a test process: its services and its gRPC clients share it, as a deployment's do. */
export const TEST_INTERNAL_KEY = randomBytes(32).toString('base64url');
/** A service environment with the test process's internal key (an explicit one wins). */
export const withInternalKey = <E extends Record<string, string | undefined>>(env: E) => ({
  INTERNAL_TOKEN_KEY: TEST_INTERNAL_KEY,
  ...env,
});
/** Signs test clients' calls as a Picard service would (createGrpcClient's third argument). */
export const testTokens = (issuer = 'test') => new InternalTokens({ key: TEST_INTERNAL_KEY, issuer });

export const testLogger = () => createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

/** A unique schema name, so suites running in parallel on one PostgreSQL never share tables. */
export const uniqueSchema = (prefix: string) => `${prefix}_t${randomBytes(4).toString('hex')}`;

export interface TestDatabase {
  target: DatabaseTarget;
  /** Drops what the suite created (cluster) or closes the PGlite (embedded). */
  cleanup(schema: string): Promise<void>;
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const url = process.env.PICARD_TEST_DATABASE_URL;
  if (url) {
    return {
      target: { kind: 'postgres', url },
      async cleanup(schema) {
        const k = knexFactory({ client: 'pg', connection: url });
        await k.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
        await k.destroy();
      },
    };
  }
  const pglite = await openPglite('memory://');
  return {
    target: { kind: 'pglite', pglite },
    async cleanup() {
      if (!pglite.closed) await pglite.close();
    },
  };
}

export async function openTestEventBus(name = 'test'): Promise<EventBus> {
  const url = process.env.PICARD_TEST_NATS_URL;
  return url
    ? NatsEventBus.connect(url, name, testLogger())
    : new InProcessEventBus(testLogger(), [10, 50, 200]);
}

export { startFakeOpenAi, type FakeChatBody, type FakeOpenAi } from './fake-openai.js';
export { seededRandom } from './seeded-random.js';
