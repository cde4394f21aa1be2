import { unary, type Logger } from '@picard/service-kit';
import { embeddingPb } from '@picard/proto';
import type { ModelRegistry } from '../domain/model-registry.js';

export function embeddingHandlers(models: ModelRegistry, logger: Logger): embeddingPb.EmbeddingServiceServer {
  const { provider } = models.configured;
  return {
    embed: unary<embeddingPb.EmbedRequest, embeddingPb.EmbedResponse>(logger, 'Embed', async (req) => {
      const embedder = await models.embedderFor(req.model, req.dimensions);
      const { vectors, cached } = await embedder.embed(req.texts);
      return {
        vectors: vectors.map((values) => ({ values })),
        model: embedder.provider.model,
        dimensions: embedder.provider.dimensions,
        cached,
      };
    }),
    getModelInfo: unary<embeddingPb.GetModelInfoRequest, embeddingPb.ModelInfo>(
      logger,
      'GetModelInfo',
      async () => ({
        provider: provider.name,
        model: provider.model,
        dimensions: provider.dimensions,
      }),
    ),
  };
}
