import { z } from 'zod';
import { env, metricsEnv, unsetIfEmpty } from '@picard/service-kit';

/** persona-service environment; names are the project's decided ones (see README configuration table). */
export const personaConfigSchema = z
  .object({
    LOG_LEVEL: env.logLevel(),
    ...metricsEnv,
    DATABASE_URL: env.optionalUrl('postgres', 'postgresql'),
    PERSONA_DATABASE_URL: env.optionalUrl('postgres', 'postgresql'),
    NATS_URL: env.optionalUrl('nats', 'tls'),
    PICARD_DATA_DIR: env.string('./data'),
    /** Loopback unless set: only the deployment's network config (compose, render.yaml) opens it wider. */
    PERSONA_GRPC_HOST: env.string('127.0.0.1'),
    INTERNAL_TOKEN_KEY: env.internalKey(),
    PERSONA_GRPC_PORT: env.port(50054),
    MEMORY_GRPC_ADDR: env.string('127.0.0.1:50052'),
    // No LLM configured means the offline answer composer (issue #5), never a start-up failure.
    LLM_BASE_URL: env.optionalUrl('http', 'https'),
    LLM_API_KEY: env.optionalString(),
    LLM_MODEL: env.optionalString(),
    /**
     * Models a persona may choose besides LLM_MODEL, comma-separated (each a request to pay for, so
     * the operator lists them). Default: none, so only LLM_MODEL.
     */
    LLM_ALLOWED_MODELS: env.string('').transform((v, ctx) => {
      const models = [
        ...new Set(
          v
            .split(',')
            .map((m) => m.trim())
            .filter(Boolean),
        ),
      ];
      const long = models.find((m) => m.length > 100);
      if (long) {
        ctx.addIssue({ code: 'custom', message: `"${long.slice(0, 20)}..." is longer than 100 characters` });
        return z.NEVER;
      }
      return models;
    }),
    /** Per attempt; the openai client retries timeouts too, so the worst case is (retries + 1) times this. */
    LLM_TIMEOUT_MS: env.positiveInt(30_000),
    // 0 is a valid choice (fail fast), which env.positiveInt would refuse.
    LLM_MAX_RETRIES: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(10).default(2)),
    /**
     * remember_conversation without an LLM: a user message at least this similar (cosine, as
     * query_memory's similarity: 1 = identical) to one of the caller's own memories is skipped.
     */
    PERSONA_REMEMBER_DUPLICATE_SIMILARITY: z.preprocess(
      unsetIfEmpty,
      z.coerce.number().min(0).max(1).default(0.9),
    ),
  })
  .superRefine((c, ctx) => {
    // A configured endpoint with no model would fail on every question; say so at start-up instead.
    if (llmConfigured(c) && !c.LLM_MODEL) {
      ctx.addIssue({
        code: 'custom',
        path: ['LLM_MODEL'],
        message: 'is required when LLM_BASE_URL or LLM_API_KEY is set',
      });
    }
  });

export type PersonaConfig = z.infer<typeof personaConfigSchema>;

/** The models a persona may name: LLM_MODEL and LLM_ALLOWED_MODELS. */
export const allowedModels = (c: PersonaConfig): string[] => [
  ...new Set([...(c.LLM_MODEL ? [c.LLM_MODEL] : []), ...c.LLM_ALLOWED_MODELS]),
];

/** Whether an LLM answers persona questions (otherwise answers are composed offline). */
export const llmConfigured = (c: PersonaConfig): boolean => Boolean(c.LLM_BASE_URL || c.LLM_API_KEY);
