import { z } from 'zod';
import { env, metricsEnv, unsetIfEmpty } from '@picard/service-kit';
import { DEFAULT_MODEL_NICE } from './providers/offline-use.provider.js';

/** The embedding-service environment; parsed once at start-up by loadConfig. */
export const embeddingConfigSchema = z
  .object({
    LOG_LEVEL: env.logLevel(),
    ...metricsEnv,
    /** Loopback unless set: only the deployment's network config (compose, render.yaml) opens it wider. */
    EMBEDDING_GRPC_HOST: env.string('127.0.0.1'),
    INTERNAL_TOKEN_KEY: env.internalKey(),
    EMBEDDING_GRPC_PORT: env.port(50053),
    EMBEDDING_PROVIDER: z.preprocess(
      unsetIfEmpty,
      z.enum(['offline', 'openai'], { message: 'must be offline or openai' }).default('offline'),
    ),
    OPENAI_API_KEY: env.optionalString(),
    OPENAI_BASE_URL: env.optionalUrl('http', 'https'),
    /** Only the openai provider reads it; the offline model is fixed. */
    EMBEDDING_MODEL: env.string('text-embedding-3-small'),
    EMBEDDING_DIMENSIONS: env.positiveInt(1536),
    EMBEDDING_TIMEOUT_MS: env.positiveInt(30_000),
    EMBEDDING_CACHE_SIZE: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).default(10_000)),
    /** Threads running the offline model (each holds it: ~240 MB); the second starts when there is work for it. */
    EMBEDDING_OFFLINE_WORKERS: env.intWithin(2, 1, 2, 'must be 1 or 2'),
    /** The model threads' nice value (Linux): 0 keeps the process's priority, 19 is the lowest. */
    EMBEDDING_OFFLINE_NICE: env.intWithin(DEFAULT_MODEL_NICE, 0, 19),
    /** auto: the model's matrix products in native code (packed kernels for its weights, OpenBLAS for the rest when installed); off: never. */
    EMBEDDING_OFFLINE_BLAS: z.preprocess(
      unsetIfEmpty,
      z.enum(['auto', 'off'], { message: 'must be auto or off' }).default('auto'),
    ),
  })
  .superRefine((c, ctx) => {
    if (c.EMBEDDING_PROVIDER === 'openai' && !c.OPENAI_API_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPENAI_API_KEY'],
        message: 'is required when EMBEDDING_PROVIDER=openai',
      });
    }
  });

export type EmbeddingConfig = z.infer<typeof embeddingConfigSchema>;
