import { authPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  createGrpcClient,
  DomainError,
  loadConfig,
  type BusMessage,
  type Caller,
  type EventBus,
} from '@picard/service-kit';
import {
  openTestDatabase,
  openTestEventBus,
  testLogger,
  uniqueSchema,
  withInternalKey,
  testTokens,
} from '@picard/service-kit/testing';
import { expect } from '@jest/globals';
import { authConfigSchema } from '../../src/config.js';
import { startAuthService, type AuthServiceHandle, type AuthServiceOptions } from '../../src/service.js';

export const ADMIN = { username: 'root-admin', password: 'admin-password-1', email: 'admin@example.com' };

/** A real auth-service on 127.0.0.1:0 over the configured database and bus, with every event recorded. */
export async function startHarness(
  env: Record<string, string> = {},
  options: Pick<AuthServiceOptions, 'clientMetadata'> = {},
) {
  const db = await openTestDatabase();
  const schema = uniqueSchema('auth');
  const bus: EventBus = await openTestEventBus(`auth-${schema}`);
  const events: BusMessage[] = [];
  const subscription = await bus.subscribe({
    durable: `auth-test-${schema}`,
    subjects: ['auth.>'],
    handler: async (m) => void events.push(m),
  });
  const config = loadConfig(
    authConfigSchema,
    withInternalKey({
      PICARD_ADMIN_USERNAME: ADMIN.username,
      PICARD_ADMIN_PASSWORD: ADMIN.password,
      PICARD_ADMIN_EMAIL: ADMIN.email,
      ...env,
    }),
  );
  const service: AuthServiceHandle = await startAuthService({
    config,
    database: db.target,
    schema,
    bus,
    logger: testLogger(),
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    ...options,
  });
  const client = createGrpcClient(authPb.AuthServiceClient, service.grpc.address, testTokens());

  type Method = keyof authPb.AuthServiceClient & keyof typeof authPb.AuthServiceService;
  const call = <Res>(method: Method, request: unknown, caller?: Caller): Promise<Res> => {
    const fn = (client[method] as (...args: unknown[]) => unknown).bind(client);
    return callUnary(fn as never, request, caller ? callerMetadata(caller) : undefined);
  };

  return {
    config,
    /** The database and schema, for a second service instance on the same data. */
    database: db.target,
    schema,
    bus,
    service,
    client,
    events,
    call,
    knex: service.knex,
    async close() {
      client.close();
      await subscription.stop();
      await service.stop();
      await bus.close();
      await db.cleanup(schema);
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** Runs the promise expecting the DomainError the server threw, with its code and field. */
export async function expectError(
  p: Promise<unknown>,
  code: DomainError['code'],
  field?: string,
  message?: RegExp,
) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  const e = err as DomainError;
  expect({ code: e.code, field: e.field }).toEqual({ code, field });
  if (message) expect(e.message).toMatch(message);
  return e;
}

export async function waitFor<T>(find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The identity the gateway would forward for a user. */
export const asUser = (userId: string, scopes = ['memories:read', 'memories:write']): Caller => ({
  userId,
  scopes,
  clientId: '',
});
