import OpenAI from 'openai';
import { checkShape, normalize, type EmbeddingProvider } from './embedding-provider.js';

export interface OpenAiProviderOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  dimensions: number;
  timeoutMs: number;
  maxRetries?: number;
}

/** Any OpenAI-compatible /embeddings endpoint, through the official client (which retries 429/5xx/timeouts). */
export function createOpenAiProvider(opts: OpenAiProviderOptions): EmbeddingProvider {
  const client = new OpenAI({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL,
    timeout: opts.timeoutMs,
    maxRetries: opts.maxRetries ?? 2,
  });
  return {
    name: 'openai',
    model: opts.model,
    dimensions: opts.dimensions,
    // A remote API: several requests in flight hide its round trip.
    parallelism: 4,
    async embed(texts) {
      const res = await client.embeddings.create({
        model: opts.model,
        input: texts,
        dimensions: opts.dimensions,
        // Explicit, so compatible servers that do not speak base64 work too.
        encoding_format: 'float',
      });
      const vectors = [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      checkShape('openai', texts, vectors, opts.dimensions);
      for (const v of vectors) normalize(v);
      return vectors;
    },
  };
}
