import { unary, type Logger } from '@picard/service-kit';
import { embeddingPb } from '@picard/proto';
import type { Embedder } from '../domain/embedder.js';

export function embeddingHandlers(embedder: Embedder, logger: Logger): embeddingPb.EmbeddingServiceServer {
  const { provider } = embedder;
  return {
    embed: unary<embeddingPb.EmbedRequest, embeddingPb.EmbedResponse>(logger, 'Embed', async (req) => {
      const { vectors, cached } = await embedder.embed(req.texts);
      return {
        vectors: vectors.map((values) => ({ values })),
        model: provider.model,
        dimensions: provider.dimensions,
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
