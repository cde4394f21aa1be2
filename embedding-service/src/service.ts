import {
  InternalTokens,
  startGrpcServer,
  watchQueue,
  type GrpcServerHandle,
  type Logger,
} from '@picard/service-kit';
import { embeddingPb } from '@picard/proto';
import type { EmbeddingConfig } from './config.js';
import { Embedder } from './domain/embedder.js';
import { ModelRegistry } from './domain/model-registry.js';
import { embeddingHandlers } from './grpc/embedding.handlers.js';
import { createProvider } from './providers/create-provider.js';
import type { EmbeddingProvider } from './providers/embedding-provider.js';

export interface EmbeddingServiceOptions {
  config: EmbeddingConfig;
  logger: Logger;
  grpcHost?: string;
  grpcPort?: number;
  /** Use this provider instead of the configured one (e.g. an instrumented wrapper in tests). */
  provider?: EmbeddingProvider;
}

export interface EmbeddingServiceHandle {
  grpc: GrpcServerHandle;
  provider: EmbeddingProvider;
  stop(): Promise<void>;
}

export async function startEmbeddingService(opts: EmbeddingServiceOptions): Promise<EmbeddingServiceHandle> {
  const { config, logger } = opts;
  // Loaded before the server binds, so the health check never says SERVING without a model.
  const provider = opts.provider ?? (await createProvider(config));
  // A provider handed in belongs to the caller, who closes it.
  const owned = opts.provider ? undefined : provider;
  const embedder = new Embedder(provider, {
    cacheSize: config.EMBEDDING_CACHE_SIZE,
    logger,
    // Beyond what the provider runs at once a batch would only wait there, while texts arriving
    // meanwhile merge into the next batch.
    concurrency: provider.parallelism ?? 1,
  });
  const models = new ModelRegistry(embedder, config, logger);
  const unwatch = watchQueue(provider.name, () => embedder.queueDepth);
  const grpc = await startGrpcServer({
    host: opts.grpcHost ?? config.EMBEDDING_GRPC_HOST,
    port: opts.grpcPort ?? config.EMBEDDING_GRPC_PORT,
    logger,
    tokens: new InternalTokens({ key: config.INTERNAL_TOKEN_KEY, issuer: 'embedding-service' }),
    services: [
      {
        name: 'picard.v1.EmbeddingService',
        definition: embeddingPb.EmbeddingServiceService,
        implementation: embeddingHandlers(models, logger),
      },
    ],
  }).catch(async (err: unknown) => {
    unwatch();
    await models.close();
    await owned?.close?.();
    throw err;
  });
  logger.info(
    {
      provider: provider.name,
      model: provider.model,
      dimensions: provider.dimensions,
      ...(provider.runtime && { runtime: provider.runtime }),
    },
    'embedding provider ready',
  );
  return {
    grpc,
    provider,
    async stop() {
      unwatch();
      await grpc.shutdown();
      await models.close();
      await owned?.close?.();
    },
  };
}
