import {
  InternalTokens,
  openDatabase,
  OutboxRelay,
  startGrpcServer,
  type DatabaseTarget,
  type EventBus,
  type GrpcServerHandle,
  type Logger,
  type Subscription,
  watchOutbox,
} from '@picard/service-kit';
import { personaPb } from '@picard/proto';
import { allowedModels, llmConfigured, type PersonaConfig } from './config.js';
import { MemoryClient } from './clients/memory.client.js';
import { AnswerCache } from './domain/answer-cache.js';
import { PersonaService } from './domain/persona.service.js';
import { QueryService } from './domain/query.service.js';
import { RememberService } from './domain/remember/remember.service.js';
import { subscribeCacheInvalidation } from './events/cache-invalidation.js';
import { personaHandlers } from './grpc/persona.handlers.js';
import { migrations } from './migrations/index.js';
import { PersonaStore } from './store/persona.store.js';

export interface PersonaServiceOptions {
  config: PersonaConfig;
  /** Defaults to an in-memory PGlite, which only tests and throwaway runs want. */
  database?: DatabaseTarget;
  schema?: string;
  /**
   * Drains the outbox and delivers the memory.* events that invalidate cached answers; the caller
   * owns it and closes it after stop(). Without a bus, cached answers live until evicted.
   */
  bus?: EventBus;
  logger: Logger;
  /** Override the config: the embedded launcher binds 127.0.0.1:0. */
  grpcHost?: string;
  grpcPort?: number;
  /** Overrides MEMORY_GRPC_ADDR. */
  memoryAddress?: string;
  /** Bound of the answer cache (entries). */
  answerCacheSize?: number;
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
  const tokens = new InternalTokens({ key: config.INTERNAL_TOKEN_KEY, issuer: 'persona-service' });
  const memories = new MemoryClient(opts.memoryAddress ?? config.MEMORY_GRPC_ADDR, tokens);
  let invalidation: Subscription | undefined;
  try {
    const store = new PersonaStore(knex);
    const models = allowedModels(config);
    const service = new PersonaService(store, config.LLM_MODEL, models);
    const cache = new AnswerCache(opts.answerCacheSize);
    // The openai client loads only when an LLM is configured (~70 ms of every start otherwise).
    const llm = llmConfigured(config)
      ? (await import('./llm/openai.llm.js')).createLlm(config, logger)
      : undefined;
    logger.info(
      llm ? { llm: config.LLM_BASE_URL ?? 'api.openai.com', model: config.LLM_MODEL } : { llm: 'none' },
      llm
        ? 'persona answers come from the configured LLM'
        : 'no LLM configured: persona answers are composed offline',
    );
    const query = new QueryService({
      store,
      memories,
      llm,
      defaultModel: config.LLM_MODEL,
      allowedModels: models,
      cache,
    });
    const remember = new RememberService({
      memories,
      llm,
      model: config.LLM_MODEL,
      duplicateSimilarity: config.PERSONA_REMEMBER_DUPLICATE_SIMILARITY,
    });
    if (opts.bus) invalidation = await subscribeCacheInvalidation(opts.bus, cache, logger);
    const grpc = await startGrpcServer({
      host: opts.grpcHost ?? config.PERSONA_GRPC_HOST,
      port: opts.grpcPort ?? config.PERSONA_GRPC_PORT,
      tokens,
      services: [
        {
          name: 'picard.v1.PersonaService',
          definition: personaPb.PersonaServiceService,
          implementation: personaHandlers(service, query, remember, logger),
        },
      ],
      logger,
    });
    relay?.start();
    const unwatchOutbox = watchOutbox('persona-service', knex);
    return {
      grpc,
      async stop() {
        unwatchOutbox();
        await grpc.shutdown();
        await invalidation?.stop();
        memories.close();
        await relay?.stop();
        await knex.destroy();
      },
    };
  } catch (err) {
    await invalidation?.stop();
    memories.close();
    await knex.destroy();
    throw err;
  }
}

async function inMemoryDatabase(): Promise<DatabaseTarget> {
  const { openPglite } = await import('@picard/service-kit');
  return { kind: 'pglite', pglite: await openPglite('memory://') };
}
