import { startGrpcServer, type GrpcServerHandle, type Logger } from '@picard/service-kit';
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
  const embedder = new Embedder(provider, {
    cacheSize: config.EMBEDDING_CACHE_SIZE,
    logger,
    concurrency: provider.name === 'openai' ? 4 : 1,
  });
  const grpc = await startGrpcServer({
    host: opts.grpcHost ?? config.EMBEDDING_GRPC_HOST,
    port: opts.grpcPort ?? config.EMBEDDING_GRPC_PORT,
    logger,
    services: [
      {
        name: 'picard.v1.EmbeddingService',
        definition: embeddingPb.EmbeddingServiceService,
        implementation: embeddingHandlers(new ModelRegistry(embedder, config, logger), logger),
      },
    ],
  });
  logger.info(
    { provider: provider.name, model: provider.model, dimensions: provider.dimensions },
    'embedding provider ready',
  );
  return {
    grpc,
    provider,
    stop: () => grpc.shutdown(),
  };
}
