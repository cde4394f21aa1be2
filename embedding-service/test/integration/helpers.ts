import { withInternalKey, testTokens } from '@picard/service-kit/testing';
import { embeddingPb } from '@picard/proto';
import { callUnary, createGrpcClient, DomainError, loadConfig } from '@picard/service-kit';
import { embeddingConfigSchema, type EmbeddingConfig } from '../../src/config.js';

export const configFrom = (env: Record<string, string>): EmbeddingConfig =>
  loadConfig(embeddingConfigSchema, withInternalKey(env));

export function embeddingClient(address: string) {
  const client = createGrpcClient(embeddingPb.EmbeddingServiceClient, address, testTokens());
  return {
    client,
    embed: (texts: string[], model = '', dimensions = 0) =>
      callUnary(client.embed.bind(client), { texts, model, dimensions }),
    info: () => callUnary(client.getModelInfo.bind(client), {}),
  };
}

/** Resolves to the DomainError a call failed with (and fails the test if it succeeded). */
export async function failure(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

export const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
