import { authPb, rateLimitPb } from '@picard/proto';
import {
  connectEventBus,
  DomainError,
  InternalTokens,
  openDatabase,
  OutboxRelay,
  resolveDatabaseTarget,
  startGrpcServer,
  type DatabaseTarget,
  type EventBus,
  type GrpcServerHandle,
  type Knex,
  type Logger,
  watchOutbox,
} from '@picard/service-kit';
import { ClientMetadataFetcher, type ClientMetadataFetcherOptions } from './client-metadata/index.js';
import type { AuthConfig } from './config.js';
import { createAuthDomain, type AuthDomain } from './domain/auth.domain.js';
import type { KeyRotationOptions } from './domain/signing-keys.js';
import { createAuthHandlers } from './grpc/auth.handlers.js';
import { createRateLimitHandlers } from './grpc/rate-limit.handlers.js';
import { migrations } from './migrations/index.js';
import { AuthStore } from './store/auth.store.js';

export interface AuthServiceOptions {
  config: AuthConfig;
  /** Defaults to AUTH_DATABASE_URL ?? DATABASE_URL, else a PGlite under PICARD_DATA_DIR/auth. */
  database?: DatabaseTarget;
  schema?: string;
  /** Defaults to NATS_URL, else an in-process bus (closed by stop() only when created here). */
  bus?: EventBus;
  logger: Logger;
  grpcHost?: string;
  grpcPort?: number;
  /** Tuning of the Client ID Metadata Document cache (tests use a clock of their own). */
  clientMetadata?: Pick<
    ClientMetadataFetcherOptions,
    'cacheTtlSeconds' | 'failureTtlSeconds' | 'maxCacheEntries' | 'now'
  >;
  /** Signing-key tuning: tests move the key-lifetime clock and set how often instances re-check. */
  signingKeys?: Pick<KeyRotationOptions, 'now' | 'checkIntervalMs'>;
  /**
   * Return once gRPC listens, before the PICARD_ADMIN_* account is applied (a scrypt hash, ~0.4 s);
   * the caller then awaits `adminEnsured`. The embedded stack starts the gateway meanwhile.
   */
  adminInBackground?: boolean;
}

/** The bootstrap admin's settings come from the environment: name the variable that is wrong. */
export function adminSettingError(err: unknown): unknown {
  if (!(err instanceof DomainError) || !err.field) return err;
  const variable =
    err.field === 'password'
      ? 'PICARD_ADMIN_PASSWORD'
      : err.field === 'email'
        ? 'PICARD_ADMIN_EMAIL'
        : 'PICARD_ADMIN_USERNAME';
  return new Error(`${variable}: ${err.message}`);
}

export interface AuthServiceHandle {
  grpc: GrpcServerHandle;
  /** The service's database, for tools and tests that must look at rows (never for other services). */
  knex: Knex;
  domain: AuthDomain;
  /** Settles once the PICARD_ADMIN_* account is applied; rejects (naming the variable) if it cannot be. */
  adminEnsured: Promise<void>;
  stop(): Promise<void>;
}

/** The database target main.ts and create-admin.ts agree on. */
export const authDatabaseTarget = (config: AuthConfig) =>
  resolveDatabaseTarget(config.AUTH_DATABASE_URL ?? config.DATABASE_URL, config.PICARD_DATA_DIR, 'auth');

/** The Client ID Metadata Document fetcher the config asks for; undefined when AUTH_CIMD_ENABLED is false. */
export function clientMetadataFetcher(
  config: AuthConfig,
  logger: Logger,
  tuning: AuthServiceOptions['clientMetadata'] = {},
): ClientMetadataFetcher | undefined {
  if (!config.AUTH_CIMD_ENABLED) return undefined;
  if (config.AUTH_CIMD_ALLOW_LOOPBACK) {
    logger.warn(
      'AUTH_CIMD_ALLOW_LOOPBACK is on: client metadata URLs may use http and loopback hosts (development only)',
    );
  }
  return new ClientMetadataFetcher({
    ...tuning,
    logger,
    allowLoopback: config.AUTH_CIMD_ALLOW_LOOPBACK,
    timeoutMs: config.AUTH_CIMD_TIMEOUT_MS,
  });
}

export async function openAuthDatabase(
  target: DatabaseTarget,
  logger: Logger,
  schema = 'auth',
): Promise<Knex> {
  return openDatabase({ target, schema, migrations, logger });
}

export async function startAuthService(opts: AuthServiceOptions): Promise<AuthServiceHandle> {
  const { config, logger } = opts;
  const knex = await openAuthDatabase(
    opts.database ?? (await authDatabaseTarget(config)),
    logger,
    opts.schema,
  );
  const ownBus = opts.bus
    ? undefined
    : await connectEventBus(config.NATS_URL, 'auth-service', logger).catch(async (err) => {
        await knex.destroy();
        throw err;
      });
  const bus = opts.bus ?? ownBus!;
  const relay = new OutboxRelay(knex, bus, logger);
  try {
    const store = new AuthStore(knex, () => relay.nudge());
    const domain = await createAuthDomain(
      store,
      {
        issuer: config.PICARD_PUBLIC_URL,
        accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
        refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
        codeTtlSeconds: config.AUTH_CODE_TTL_SECONDS,
        dynamicClientsPerHour: config.AUTH_DYNAMIC_CLIENTS_PER_HOUR,
        dynamicClientsPerSourcePerHour: config.AUTH_DYNAMIC_CLIENTS_PER_SOURCE_PER_HOUR,
        metadataClients: {
          retentionDays: config.AUTH_CIMD_CLIENT_RETENTION_DAYS,
          max: config.AUTH_CIMD_MAX_CLIENTS,
        },
        clientMetadata: clientMetadataFetcher(config, logger, opts.clientMetadata),
        login: {
          maxPerAccount: config.AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT,
          maxPerIp: config.AUTH_LOGIN_MAX_FAILURES_PER_IP,
          windowSeconds: config.AUTH_LOGIN_WINDOW_SECONDS,
        },
        rateLimitDb: knex,
        keyRotation: {
          ...opts.signingKeys,
          rotationDays: config.AUTH_SIGNING_KEY_ROTATION_DAYS,
          publishAheadSeconds: config.AUTH_SIGNING_KEY_PUBLISH_AHEAD_SECONDS,
          encryptionKey: config.AUTH_KEY_ENCRYPTION_KEY
            ? Buffer.from(config.AUTH_KEY_ENCRYPTION_KEY, 'base64')
            : undefined,
        },
      },
      logger,
    );
    const { PICARD_ADMIN_USERNAME: username, PICARD_ADMIN_PASSWORD: password } = config;
    const adminEnsured =
      username && password
        ? domain.users
            .applyConfiguredAdmin(
              { username, password, email: config.PICARD_ADMIN_EMAIL },
              // Without this key the settings are applied at every start.
              config.AUTH_KEY_ENCRYPTION_KEY
                ? Buffer.from(config.AUTH_KEY_ENCRYPTION_KEY, 'base64')
                : undefined,
            )
            .then(
              ({ admin, applied }) =>
                logger.info(
                  { userId: admin.id, username: admin.username },
                  applied
                    ? 'admin account set from PICARD_ADMIN_*'
                    : 'admin account kept: PICARD_ADMIN_* unchanged since last applied',
                ),
              (err: unknown) => Promise.reject(adminSettingError(err)),
            )
        : Promise.resolve();
    // Awaited below or by the caller; until then a failure must not count as unhandled.
    adminEnsured.catch(() => undefined);
    if (!opts.adminInBackground) await adminEnsured;
    relay.start();
    const grpc = await startGrpcServer({
      host: opts.grpcHost ?? config.AUTH_GRPC_HOST,
      port: opts.grpcPort ?? config.AUTH_GRPC_PORT,
      tokens: new InternalTokens({ key: config.INTERNAL_TOKEN_KEY, issuer: 'auth-service' }),
      services: [
        {
          name: 'picard.v1.AuthService',
          definition: authPb.AuthServiceService,
          implementation: createAuthHandlers(domain, store, logger),
        },
        {
          name: 'picard.v1.RateLimitService',
          definition: rateLimitPb.RateLimitServiceService,
          implementation: createRateLimitHandlers(domain.rateLimits, logger),
        },
      ],
      logger,
    });
    domain.keys.start();
    const unwatchOutbox = watchOutbox('auth-service', knex);
    return {
      grpc,
      knex,
      domain,
      adminEnsured,
      async stop() {
        await adminEnsured.catch(() => undefined);
        unwatchOutbox();
        await domain.keys.stop();
        await grpc.shutdown();
        await relay.stop();
        await knex.destroy();
        await ownBus?.close();
      },
    };
  } catch (err) {
    await relay.stop().catch(() => undefined);
    await knex.destroy();
    await ownBus?.close();
    throw err;
  }
}
