import {
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
import { memoryPb } from '@picard/proto';
import { connectEmbeddings, ServingEmbeddings } from './clients/embedding.client.js';
import type { MemoryConfig } from './config.js';
import { MemoryCipher } from './domain/memory-cipher.js';
import { ActivityRecorder, ActivityService } from './domain/activity.js';
import { GroupService } from './domain/group.service.js';
import { MemoryBatchService } from './domain/memory-batch.service.js';
import { MemoryHistoryService } from './domain/memory-history.service.js';
import { MemoryService } from './domain/memory.service.js';
import { TransferService } from './domain/transfer.service.js';
import { ActivityStore } from './store/activity.store.js';
import { GroupStore } from './store/group.store.js';
import { ImportBatchStore } from './store/import-batch.store.js';
import { memoryHandlers } from './grpc/memory.handlers.js';
import { memoryMigrations } from './migrations/index.js';
import { MemoryHistoryStore } from './store/memory-history.store.js';
import { MemoryStore } from './store/memory.store.js';
import { KeywordHasher } from './domain/keyword-hasher.js';
import { fusionOptions } from './domain/hybrid-ranking.js';
import { KeywordStore } from './store/keyword.store.js';
import { StatisticsStore } from './store/statistics.store.js';
import { TableStatistics } from './domain/table-statistics.js';
import { supportsIterativeScan } from './store/schema-check.js';
import { searchSessionSql } from './store/search-session.js';
import { calibrateDistanceCost } from './store/distance-cost.js';
import { ReembedStore } from './store/reembed.store.js';
import { startBackgroundJobs, type BackgroundJobs } from './background-jobs.js';

/** A write this large makes the keyword corpus statistics worth recounting at once. */
const BULK_ROWS = 100;

export interface MemoryServiceOptions {
  config: MemoryConfig;
  logger: Logger;
  /** Defaults to MEMORY_DATABASE_URL ?? DATABASE_URL, else a PGlite under PICARD_DATA_DIR/memory. */
  database?: DatabaseTarget;
  /** Database schema holding the tables (default "memory"). */
  schema?: string;
  /** Where outbox events go; without one they wait in the outbox table. */
  bus?: EventBus;
  grpcHost?: string;
  grpcPort?: number;
  /** Overrides EMBEDDING_GRPC_ADDR (the embedded launcher knows the bound port). */
  embeddingAddress?: string;
  /** Pause before the re-embedding job retries after an embedder failure (default 30 s; tests shorten it). */
  reembedRetryMs?: number;
}

export interface MemoryServiceHandle {
  grpc: GrpcServerHandle;
  /** The service's own connection (tests and operational tooling). */
  knex: Knex;
  /** Background jobs, exposed so tests and operators can run a pass now. */
  jobs: BackgroundJobs;
  /** The store searches run through (the plan test explains its statements). */
  memories: MemoryStore;
  /** Planner statistics upkeep. */
  statistics: TableStatistics;
  embedding: { provider: string; model: string; dimensions: number };
  stop(): Promise<void>;
}

export async function startMemoryService(opts: MemoryServiceOptions): Promise<MemoryServiceHandle> {
  const { config, logger } = opts;
  const schema = opts.schema ?? 'memory';
  const cipher = new MemoryCipher(config.MEMORY_ENCRYPTION_KEYS, config.MEMORY_ENCRYPTION_KEY_ID);
  const tokens = new InternalTokens({ key: config.INTERNAL_TOKEN_KEY, issuer: 'memory-service' });

  // The vector column is sized from the model, so the model must be known before migrating.
  const embeddingClient = await connectEmbeddings(
    opts.embeddingAddress ?? config.EMBEDDING_GRPC_ADDR,
    tokens,
    logger,
  );
  const { embeddings } = embeddingClient;
  const target =
    opts.database ??
    (await resolveDatabaseTarget(
      config.MEMORY_DATABASE_URL ?? config.DATABASE_URL,
      config.PICARD_DATA_DIR,
      'memory',
    ));

  let knex: Knex | undefined;
  try {
    knex = await openDatabase({
      target,
      schema,
      migrations: memoryMigrations(embeddings.info.dimensions),
      logger,
      onConnect: searchSessionSql(config.MEMORY_HNSW_EF_SEARCH),
    });
    await calibrateDistanceCost(knex, logger);
    const pgvector = await supportsIterativeScan(knex);
    logger.info(
      { pgvector: pgvector.version, iterativeScan: pgvector.iterative, embedding: embeddings.info },
      'memory store ready',
    );
    // Queries and writes use the model of the stored vectors until a model change is re-embedded.
    const reembedStore = new ReembedStore(knex, schema);
    const serving = new ServingEmbeddings(embeddings, await reembedStore.servingModel(embeddings.info));
    // During a model change an edited text clears the row's new vector (embedding_next): the column
    // must exist before the first request, not only once the background job gets to it.
    if (serving.reembedding()) {
      await reembedStore.prepare({ model: embeddings.info.model, dimensions: embeddings.info.dimensions });
    }
    const memoryStore = new MemoryStore(
      knex,
      () => serving.reembedding(),
      {
        efSearch: config.MEMORY_HNSW_EF_SEARCH,
        iterativeScan: pgvector.iterative,
        nodePostgres: target.kind === 'postgres',
      },
      config.MEMORY_HISTORY_MAX_VERSIONS,
    );
    const keywordStore = new KeywordStore(knex);
    const keywordHasher = new KeywordHasher(config.MEMORY_ENCRYPTION_KEYS, cipher.activeKeyId);
    const statistics = new TableStatistics({
      // PostgreSQL's autovacuum keeps tables vacuumed; PGlite has none.
      store: new StatisticsStore(knex, { vacuum: target.kind === 'pglite' }),
      logger,
      intervalSeconds: config.MEMORY_ANALYZE_INTERVAL_SECONDS,
    });
    memoryStore.onWrite = (rows) => {
      statistics.wrote(rows);
      if (rows >= BULK_ROWS) keywordStore.forgetStats();
    };

    const relay = opts.bus ? new OutboxRelay(knex, opts.bus, logger) : undefined;
    if (!opts.bus) logger.warn('no event bus: memory events stay in the outbox');
    const groups = new GroupService(new GroupStore(knex));
    const activityStore = new ActivityStore(knex);
    const recorder = new ActivityRecorder(activityStore, logger);
    const memories = new MemoryService({
      store: memoryStore,
      cipher,
      embeddings: serving,
      groupsOf: (userId) => groups.groupIdsOf(userId),
      activity: recorder,
      logger,
      maxTextChars: config.MEMORY_MAX_TEXT_CHARS,
      iterativeScan: pgvector.iterative,
      efSearch: config.MEMORY_HNSW_EF_SEARCH,
      onCommitted: () => relay?.nudge(),
      keywords: { hasher: keywordHasher, store: keywordStore },
      fusion: fusionOptions(config.MEMORY_HYBRID_FUSION, config.MEMORY_HYBRID_KEYWORD_WEIGHT),
    });
    const historyStore = new MemoryHistoryStore(knex);
    const history = new MemoryHistoryService({
      memories,
      store: memoryStore,
      history: historyStore,
      cipher,
      maxVersions: config.MEMORY_HISTORY_MAX_VERSIONS,
    });
    const domain = {
      memories,
      history,
      batch: new MemoryBatchService(memories, memoryStore),
      groups,
      activity: new ActivityService(activityStore, recorder),
      transfer: new TransferService(memories, memoryStore, new ImportBatchStore(knex), {
        store: historyStore,
        service: history,
      }),
    };
    const grpc = await startGrpcServer({
      host: opts.grpcHost ?? config.MEMORY_GRPC_HOST,
      port: opts.grpcPort ?? config.MEMORY_GRPC_PORT,
      logger,
      tokens,
      services: [
        {
          name: 'picard.v1.MemoryService',
          definition: memoryPb.MemoryServiceService,
          implementation: memoryHandlers(domain, logger),
        },
      ],
    });
    const jobs = startBackgroundJobs({
      knex,
      config,
      logger,
      cipher,
      client: embeddings,
      serving,
      reembedStore,
      nudge: () => relay?.nudge(),
      reembedRetryMs: opts.reembedRetryMs,
      keywords: { hasher: keywordHasher, store: keywordStore },
      statistics,
    });
    await statistics.start();
    relay?.start();
    recorder.start();
    const db = knex;
    const unwatchOutbox = watchOutbox('memory-service', db);
    return {
      grpc,
      knex: db,
      jobs,
      memories: memoryStore,
      statistics,
      embedding: { ...embeddings.info },
      async stop() {
        unwatchOutbox();
        await grpc.shutdown();
        await jobs.stop();
        await statistics.stop();
        await recorder.stop();
        await relay?.stop();
        embeddingClient.close();
        await db.destroy();
      },
    };
  } catch (err) {
    embeddingClient.close();
    await knex?.destroy();
    throw err;
  }
}
