import { randomBytes } from 'node:crypto';
import {
  createLogger,
  loadConfig,
  type DatabaseTarget,
  type EventBus,
  type Logger,
} from '@picard/service-kit';
import { authConfigSchema, startAuthService } from '@picard/auth-service';
import { embeddingConfigSchema, startEmbeddingService } from '@picard/embedding-service';
import { memoryConfigSchema, startMemoryService } from '@picard/memory-service';
import { personaConfigSchema, startPersonaService } from '@picard/persona-service';
import { gatewayConfigSchema, startGateway, type GatewayHandle } from '@picard/gateway';

const LOOPBACK = '127.0.0.1';

export interface StackOptions {
  env: NodeJS.ProcessEnv;
  /** Each service starts as soon as its own database is open (the launcher opens them together). */
  databases: {
    auth: DatabaseTarget | Promise<DatabaseTarget>;
    memory: DatabaseTarget | Promise<DatabaseTarget>;
    persona: DatabaseTarget | Promise<DatabaseTarget>;
  };
  /** Schema per service; defaults to the service names. Tests use unique ones. */
  schemas?: { auth?: string; memory?: string; persona?: string };
  bus: EventBus;
  logLevel?: string;
  /** Each service's logger (default: JSON to stdout at logLevel); tests read what was logged. */
  logger?: (service: string) => Logger;
  gatewayPort?: number;
  /** The gateway's clock for token and session expiry (tests); the real one otherwise. */
  gatewayClock?: () => number;
  onStep?: (what: string) => void;
}

export interface Stack {
  gateway: GatewayHandle;
  addresses: { auth: string; memory: string; embedding: string; persona: string };
  /** The key the services verify internal tokens with (benchmarks call them directly). */
  internalKey: string;
  stop(): Promise<void>;
}

/** Validates every service's configuration, so a bad value stops start-up before anything opens. */
export function loadStackConfigs(env: NodeJS.ProcessEnv) {
  return {
    auth: loadConfig(authConfigSchema, env),
    embedding: loadConfig(embeddingConfigSchema, env),
    memory: loadConfig(memoryConfigSchema, env),
    persona: loadConfig(personaConfigSchema, env),
    gateway: loadConfig(gatewayConfigSchema, env),
  };
}

/**
 * Starts every service in this process, each on its own loopback gRPC port, in dependency order:
 * auth beside embedding → memory → persona → gateway. Used by `npm start` and by the e2e suites.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  // In one process the services share the internal key without anyone handling it: a fresh one per
  // start (tokens live a minute, nothing outside the process needs it), unless one is given.
  const internalKey = opts.env.INTERNAL_TOKEN_KEY || randomBytes(32).toString('base64url');
  const configs = loadStackConfigs({ ...opts.env, INTERNAL_TOKEN_KEY: internalKey });
  const logger = opts.logger ?? ((name: string): Logger => createLogger(name, opts.logLevel ?? 'warn'));
  const grpc = { grpcHost: LOOPBACK, grpcPort: 0 };
  const stopped: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stopped.reverse()) await stop().catch(() => undefined);
  };
  // Awaited where each service starts; until then a failure must not count as unhandled.
  for (const db of Object.values(opts.databases)) Promise.resolve(db).catch(() => undefined);
  try {
    // auth-service needs nothing from the others: it migrates and hashes the admin password while
    // the embedding model loads (the model is the slow part of every start).
    const authStarting = Promise.resolve(opts.databases.auth).then((database) =>
      startAuthService({
        config: configs.auth,
        database,
        schema: opts.schemas?.auth,
        bus: opts.bus,
        logger: logger('auth-service'),
        ...grpc,
        // The admin password's scrypt hash overlaps the other services' start; awaited at the end.
        adminInBackground: true,
      }),
    );
    // Stopped with the others if a later start fails; a failure of its own surfaces below (the
    // empty handler only keeps it from counting as unhandled while the model loads).
    authStarting.catch(() => undefined);
    stopped.push(async () => (await authStarting.catch(() => undefined))?.stop());
    const embedding = await startEmbeddingService({
      config: configs.embedding,
      logger: logger('embedding-service'),
      ...grpc,
    });
    stopped.push(() => embedding.stop());
    opts.onStep?.(`embedding model (${configs.embedding.EMBEDDING_PROVIDER}) loaded`);

    const memory = await startMemoryService({
      config: { ...configs.memory, EMBEDDING_GRPC_ADDR: embedding.grpc.address },
      database: await opts.databases.memory,
      schema: opts.schemas?.memory,
      bus: opts.bus,
      logger: logger('memory-service'),
      ...grpc,
    });
    stopped.push(() => memory.stop());
    const persona = await startPersonaService({
      config: { ...configs.persona, MEMORY_GRPC_ADDR: memory.grpc.address },
      database: await opts.databases.persona,
      schema: opts.schemas?.persona,
      bus: opts.bus,
      logger: logger('persona-service'),
      ...grpc,
    });
    stopped.push(() => persona.stop());
    const auth = await authStarting;
    opts.onStep?.('auth, memory and persona services up');

    const addresses = {
      auth: auth.grpc.address,
      memory: memory.grpc.address,
      embedding: embedding.grpc.address,
      persona: persona.grpc.address,
    };
    const gateway = await startGateway({
      config: configs.gateway,
      logger: logger('gateway'),
      bus: opts.bus,
      addresses,
      port: opts.gatewayPort,
      clock: opts.gatewayClock,
    });
    stopped.push(() => gateway.stop());
    await auth.adminEnsured;
    return { gateway, addresses, internalKey, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
