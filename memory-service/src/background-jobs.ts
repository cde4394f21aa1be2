import type { Knex, Logger } from '@picard/service-kit';
import type { EmbeddingClient, ServingEmbeddings } from './clients/embedding.client.js';
import type { MemoryConfig } from './config.js';
import { ExpirySweeper } from './domain/expiry-sweeper.js';
import { KeyRotationJob } from './domain/key-rotation.job.js';
import type { MemoryCipher } from './domain/memory-cipher.js';
import { PendingEmbeddingRetry } from './domain/pending-embeddings.js';
import { ReembedJob } from './domain/reembed.job.js';
import { KeyRotationStore } from './store/key-rotation.store.js';
import { PendingEmbeddingStore } from './store/pending-embedding.store.js';
import { MemoryHistoryStore } from './store/memory-history.store.js';
import type { ReembedStore } from './store/reembed.store.js';
import { SweeperStore } from './store/sweeper.store.js';
import type { KeywordStore } from './store/keyword.store.js';
import type { KeywordHasher } from './domain/keyword-hasher.js';
import { KeywordIndexJob } from './domain/keyword-index.job.js';
import type { TableStatistics } from './domain/table-statistics.js';

export interface BackgroundJobs {
  sweeper: ExpirySweeper;
  pending: PendingEmbeddingRetry;
  keyRotation: KeyRotationJob;
  keywordIndex: KeywordIndexJob;
  /** Present while the stored vectors are of another model than the configured one. */
  reembed?: ReembedJob;
  /** Settles when the one-off jobs started at start-up (key rotation, re-embedding) are done. */
  settled: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The memory-service's work besides answering calls: the expiry sweeper and pending-embedding retry
 * on timers; key rotation and re-embedding once at start when there is something to do. Each runs
 * in batches of one transaction, so stopping at any point loses nothing.
 */
export function startBackgroundJobs(deps: {
  knex: Knex;
  config: MemoryConfig;
  logger: Logger;
  cipher: MemoryCipher;
  client: EmbeddingClient;
  serving: ServingEmbeddings;
  reembedStore: ReembedStore;
  nudge: () => void;
  reembedRetryMs?: number;
  keywords: { hasher: KeywordHasher; store: KeywordStore };
  statistics: TableStatistics;
}): BackgroundJobs {
  const { knex, config, logger, cipher } = deps;
  const abort = new AbortController();
  const sweeper = new ExpirySweeper({
    store: new SweeperStore(knex),
    logger,
    graceSeconds: config.MEMORY_EXPIRY_GRACE_SECONDS,
    intervalSeconds: config.MEMORY_SWEEP_INTERVAL_SECONDS,
    history: { store: new MemoryHistoryStore(knex), maxVersions: config.MEMORY_HISTORY_MAX_VERSIONS },
    onCommitted: (deleted) => {
      deps.nudge();
      deps.statistics.wrote(deleted);
    },
  });
  const pending = new PendingEmbeddingRetry({
    store: new PendingEmbeddingStore(knex),
    cipher,
    embeddings: deps.serving,
    logger,
    intervalSeconds: config.MEMORY_EMBEDDING_RETRY_SECONDS,
  });
  const keyRotation = new KeyRotationJob({ store: new KeyRotationStore(knex), cipher, logger });
  const keywordIndex = new KeywordIndexJob({
    store: deps.keywords.store,
    hasher: deps.keywords.hasher,
    cipher,
    logger,
  });
  const reembed = deps.serving.isConfigured()
    ? undefined
    : new ReembedJob({
        store: deps.reembedStore,
        cipher,
        client: deps.client,
        serving: deps.serving,
        logger,
        retryMs: deps.reembedRetryMs,
      });

  sweeper.start();
  pending.start();
  const once = async (name: string, run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (err) {
      if (!abort.signal.aborted)
        logger.error({ err: (err as Error).message }, `${name} stopped; it continues at the next start`);
    }
  };
  // The keyword index follows the active key, so it is brought up to date after the rotation.
  const rotateThenIndex = async () => {
    if (config.MEMORY_KEY_ROTATION === 'auto')
      await once('encryption key rotation', async () => {
        const summary = await keyRotation.run({
          signal: abort.signal,
          onProgress: (p) => logger.info(p, 'encryption key rotation: re-encrypted a batch'),
        });
        if (summary.total > 0) logger.info(summary, 'encryption key rotation finished');
      });
    await once('keyword indexing', async () => {
      const summary = await keywordIndex.run(abort.signal);
      if (summary.indexed > 0) deps.statistics.wrote(summary.indexed);
    });
  };
  const settled = Promise.all([
    rotateThenIndex(),
    reembed &&
      once('re-embedding', async () => {
        await reembed.run(abort.signal);
        await deps.statistics.analyze();
      }),
  ]).then(() => undefined);

  return {
    sweeper,
    pending,
    keyRotation,
    keywordIndex,
    reembed,
    settled,
    async stop() {
      abort.abort();
      await settled;
      await sweeper.stop();
      await pending.stop();
    },
  };
}
