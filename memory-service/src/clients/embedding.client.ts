import { embeddingPb } from '@picard/proto';
import { callUnary, createGrpcClient, DomainError, waitForReady } from '@picard/service-kit';

export interface EmbeddingModelInfo {
  provider: string;
  model: string;
  dimensions: number;
}

/** The memory service's view of embedding-service: vectors or an `unavailable` error. */
export interface Embeddings {
  readonly info: EmbeddingModelInfo;
  embed(texts: string[]): Promise<number[][]>;
}

export async function connectEmbeddings(address: string, readyTimeoutMs = 30_000) {
  const client = createGrpcClient(embeddingPb.EmbeddingServiceClient, address);
  try {
    await waitForReady(client, readyTimeoutMs);
    const info = await callUnary(client.getModelInfo.bind(client), {});
    const embeddings: Embeddings = {
      info,
      async embed(texts) {
        try {
          const res = await callUnary(client.embed.bind(client), { texts });
          return res.vectors.map((v) => v.values);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          throw new DomainError('unavailable', `embedding failed: ${reason}`);
        }
      },
    };
    return { embeddings, close: () => client.close() };
  } catch (err) {
    client.close();
    throw new Error(
      `embedding-service at ${address} is not reachable (EMBEDDING_GRPC_ADDR): ${(err as Error).message}`,
    );
  }
}
