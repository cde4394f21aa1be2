import {
  openDatabase,
  OutboxRelay,
  startGrpcServer,
  type DatabaseTarget,
  type EventBus,
  type GrpcServerHandle,
  type Logger,
} from '@picard/service-kit';
import { personaPb } from '@picard/proto';
import type { PersonaConfig } from './config.js';
import { PersonaService } from './domain/persona.service.js';
import { personaHandlers } from './grpc/persona.handlers.js';
import { migrations } from './migrations/index.js';
import { PersonaStore } from './store/persona.store.js';

export interface PersonaServiceOptions {
  config: PersonaConfig;
  /** Defaults to an in-memory PGlite, which only tests and throwaway runs want. */
  database?: DatabaseTarget;
  schema?: string;
  /** Drains the outbox; the caller owns it and closes it after stop(). */
  bus?: EventBus;
  logger: Logger;
  /** Override the config: the embedded launcher binds 127.0.0.1:0. */
  grpcHost?: string;
  grpcPort?: number;
}

export interface PersonaServiceHandle {
  grpc: GrpcServerHandle;
  stop(): Promise<void>;
}

export async function startPersonaService(opts: PersonaServiceOptions): Promise<PersonaServiceHandle> {
  const { config, logger } = opts;
  const database = opts.database ?? (await inMemoryDatabase());
  const knex = await openDatabase({ target: database, schema: opts.schema ?? 'persona', migrations, logger });
  const relay = opts.bus ? new OutboxRelay(knex, opts.bus, logger) : undefined;
  try {
    const service = new PersonaService(new PersonaStore(knex), config.LLM_MODEL);
    const grpc = await startGrpcServer({
      host: opts.grpcHost ?? config.PERSONA_GRPC_HOST,
      port: opts.grpcPort ?? config.PERSONA_GRPC_PORT,
      services: [
        {
          name: 'picard.v1.PersonaService',
          definition: personaPb.PersonaServiceService,
          implementation: personaHandlers(service, logger),
        },
      ],
      logger,
    });
    relay?.start();
    return {
      grpc,
      async stop() {
        await grpc.shutdown();
        await relay?.stop();
        await knex.destroy();
      },
    };
  } catch (err) {
    await knex.destroy();
    throw err;
  }
}

async function inMemoryDatabase(): Promise<DatabaseTarget> {
  const { openPglite } = await import('@picard/service-kit');
  return { kind: 'pglite', pglite: await openPglite('memory://') };
}
