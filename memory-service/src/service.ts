import {
  openDatabase,
  OutboxRelay,
  resolveDatabaseTarget,
  startGrpcServer,
  type DatabaseTarget,
  type EventBus,
  type GrpcServerHandle,
  type Knex,
  type Logger,
} from '@picard/service-kit';
import { memoryPb } from '@picard/proto';
import { connectEmbeddings } from './clients/embedding.client.js';
import type { MemoryConfig } from './config.js';
import { MemoryCipher } from './domain/memory-cipher.js';
import { ActivityRecorder, ActivityService } from './domain/activity.js';
import { ExpirySweeper } from './domain/expiry-sweeper.js';
import { GroupService } from './domain/group.service.js';
import { KeyRotationJob } from './domain/key-rotation.job.js';
import { PendingEmbeddingRetry } from './domain/pending-embeddings.js';
import { MemoryBatchService } from './domain/memory-batch.service.js';
import { MemoryService } from './domain/memory.service.js';
import { TransferService } from './domain/transfer.service.js';
import { ActivityStore } from './store/activity.store.js';
import { GroupStore } from './store/group.store.js';
import { KeyRotationStore } from './store/key-rotation.store.js';
import { PendingEmbeddingStore } from './store/pending-embedding.store.js';
import { SweeperStore } from './store/sweeper.store.js';
import { memoryHandlers } from './grpc/memory.handlers.js';
import { memoryMigrations } from './migrations/index.js';
import { MemoryStore } from './store/memory.store.js';
import { assertEmbeddingDimensions, supportsIterativeScan } from './store/schema-check.js';

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
}

export interface MemoryServiceHandle {
  grpc: GrpcServerHandle;
  /** The service's own connection (tests and operational tooling). */
  knex: Knex;
  /** Background jobs, exposed so tests and operators can run a pass now. */
  jobs: { sweeper: ExpirySweeper; pending: PendingEmbeddingRetry; keyRotation: KeyRotationJob };
  embedding: { provider: string; model: string; dimensions: number };
  stop(): Promise<void>;
}

export async function startMemoryService(opts: MemoryServiceOptions): Promise<MemoryServiceHandle> {
  const { config, logger } = opts;
  const schema = opts.schema ?? 'memory';
  const cipher = new MemoryCipher(config.MEMORY_ENCRYPTION_KEYS, config.MEMORY_ENCRYPTION_KEY_ID);

  // The vector column is sized from the model, so the model must be known before migrating.
  const embeddingClient = await connectEmbeddings(opts.embeddingAddress ?? config.EMBEDDING_GRPC_ADDR);
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
    });
    await assertEmbeddingDimensions(knex, schema, embeddings.info.dimensions, embeddings.info.model);
    const pgvector = await supportsIterativeScan(knex);
    logger.info(
      { pgvector: pgvector.version, iterativeScan: pgvector.iterative, embedding: embeddings.info },
      'memory store ready',
    );

    const relay = opts.bus ? new OutboxRelay(knex, opts.bus, logger) : undefined;
    if (!opts.bus) logger.warn('no event bus: memory events stay in the outbox');
    const groups = new GroupService(new GroupStore(knex));
    const activityStore = new ActivityStore(knex);
    const recorder = new ActivityRecorder(activityStore, logger);
    const memories = new MemoryService({
      store: new MemoryStore(knex),
      cipher,
      embeddings,
      groupsOf: (userId) => groups.groupIdsOf(userId),
      activity: recorder,
      logger,
      maxTextChars: config.MEMORY_MAX_TEXT_CHARS,
      iterativeScan: pgvector.iterative,
      onCommitted: () => relay?.nudge(),
    });
    const domain = {
      memories,
      batch: new MemoryBatchService(memories),
      groups,
      activity: new ActivityService(activityStore, recorder),
      transfer: new TransferService(memories),
    };
    const grpc = await startGrpcServer({
      host: opts.grpcHost ?? config.MEMORY_GRPC_HOST,
      port: opts.grpcPort ?? config.MEMORY_GRPC_PORT,
      logger,
      services: [
        {
          name: 'picard.v1.MemoryService',
          definition: memoryPb.MemoryServiceService,
          implementation: memoryHandlers(domain, logger),
        },
      ],
    });
    const sweeper = new ExpirySweeper({
      store: new SweeperStore(knex),
      logger,
      graceSeconds: config.MEMORY_EXPIRY_GRACE_SECONDS,
      intervalSeconds: config.MEMORY_SWEEP_INTERVAL_SECONDS,
      onCommitted: () => relay?.nudge(),
    });
    const pending = new PendingEmbeddingRetry({
      store: new PendingEmbeddingStore(knex),
      cipher,
      embeddings,
      logger,
      intervalSeconds: config.MEMORY_EMBEDDING_RETRY_SECONDS,
    });
    const keyRotation = new KeyRotationJob({ store: new KeyRotationStore(knex), cipher, logger });
    const rotationAbort = new AbortController();
    relay?.start();
    recorder.start();
    sweeper.start();
    pending.start();
    // Rows under an older key are re-encrypted online in the background after a key was added.
    const rotation =
      config.MEMORY_KEY_ROTATION === 'auto'
        ? rotateInBackground(keyRotation, rotationAbort.signal, logger)
        : undefined;
    const db = knex;
    return {
      grpc,
      knex: db,
      jobs: { sweeper, pending, keyRotation },
      embedding: { ...embeddings.info },
      async stop() {
        await grpc.shutdown();
        rotationAbort.abort();
        await rotation;
        await sweeper.stop();
        await pending.stop();
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

/** Runs the key-rotation job once, logging progress; stopping the service aborts it between batches. */
async function rotateInBackground(job: KeyRotationJob, signal: AbortSignal, logger: Logger): Promise<void> {
  try {
    const summary = await job.run({
      signal,
      onProgress: (p) => logger.info(p, 'encryption key rotation: re-encrypted a batch'),
    });
    if (summary.total > 0) logger.info(summary, 'encryption key rotation finished');
  } catch (err) {
    if (!signal.aborted)
      logger.error(
        { err: (err as Error).message },
        'encryption key rotation stopped; it continues at the next start',
      );
  }
}
