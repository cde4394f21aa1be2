import { embeddingPb } from '@picard/proto';
import {
  callUnary,
  createGrpcClient,
  DomainError,
  waitForDependency,
  waitForReady,
  type InternalTokens,
  type Logger,
} from '@picard/service-kit';

export interface EmbeddingModelInfo {
  provider: string;
  model: string;
  dimensions: number;
}

/** The memory service's view of embedding-service: vectors or an `unavailable` error. */
export interface Embeddings {
  readonly info: EmbeddingModelInfo;
  /** Vectors of `info.model`. */
  embed(texts: string[]): Promise<number[][]>;
}

/** The embedding-service client: the configured model, or another one it can serve. */
export interface EmbeddingClient extends Embeddings {
  embedWith(texts: string[], model: string, dimensions: number): Promise<number[][]>;
}

/**
 * The model memories are searched and written with. During a model change it stays the previous
 * model (the stored vectors' one) until the new vectors are complete, then switches.
 */
export class ServingEmbeddings implements Embeddings {
  constructor(
    private readonly client: EmbeddingClient,
    private serving: { model: string; dimensions: number },
  ) {}

  get info(): EmbeddingModelInfo {
    return this.isConfigured() ? this.client.info : { provider: this.client.info.provider, ...this.serving };
  }

  embed(texts: string[]): Promise<number[][]> {
    return this.isConfigured()
      ? this.client.embed(texts)
      : this.client.embedWith(texts, this.serving.model, this.serving.dimensions);
  }

  switchTo(model: { model: string; dimensions: number }): void {
    this.serving = model;
  }

  /** The stored vectors are of another model than the configured one until ReembedJob swaps them. */
  reembedding(): boolean {
    return !this.isConfigured();
  }

  isConfigured(): boolean {
    return (
      this.serving.model === this.client.info.model && this.serving.dimensions === this.client.info.dimensions
    );
  }
}

export async function connectEmbeddings(address: string, tokens: InternalTokens, logger: Logger) {
  const client = createGrpcClient(embeddingPb.EmbeddingServiceClient, address, tokens);
  try {
    // Waited for however long it takes: embedding-service may start after this one.
    const info = await waitForDependency(
      `embedding-service at ${address} (EMBEDDING_GRPC_ADDR)`,
      async () => {
        await waitForReady(client, 5_000);
        return callUnary(client.getModelInfo.bind(client), {});
      },
      { logger },
    );
    const embedWith = async (texts: string[], model: string, dimensions: number) => {
      try {
        const res = await callUnary(client.embed.bind(client), { texts, model, dimensions });
        return res.vectors.map((v) => v.values);
      } catch (err) {
        // A transport failure's text (internal addresses) stays out of what clients are told.
        const told = err instanceof DomainError && !err.opts.hidden;
        throw new DomainError(
          'unavailable',
          `embedding failed: ${told ? err.message : 'embedding-service unreachable'}`,
        );
      }
    };
    const embeddings: EmbeddingClient = { info, embed: (texts) => embedWith(texts, '', 0), embedWith };
    return { embeddings, close: () => client.close() };
  } catch (err) {
    client.close();
    throw new Error(
      `embedding-service at ${address} is not reachable (EMBEDDING_GRPC_ADDR): ${(err as Error).message}`,
    );
  }
}
