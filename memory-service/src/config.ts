import { z } from 'zod';
import { env, metricsEnv, unsetIfEmpty } from '@picard/service-kit';
import { DEFAULT_FUSION } from './domain/hybrid-ranking.js';
import { DEFAULT_HISTORY_MAX_VERSIONS } from './store/memory-history.store.js';

/** MEMORY_HNSW_EF_SEARCH unless set: what every search connection starts with (search-session.ts). */
export const DEFAULT_EF_SEARCH = 100;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** "<keyId>:<base64 of 32 bytes>[,...]"; every problem is reported with the entry at fault. */
const encryptionKeys = z.preprocess(
  unsetIfEmpty,
  z
    .string({ message: 'is required: "<keyId>:<base64 of 32 bytes>[,<keyId>:<base64>...]"' })
    .transform((raw, ctx): EncryptionKey[] => {
      // Issues carry a sub-path so loadConfig names the variable without echoing its (secret) value.
      const keys: EncryptionKey[] = [];
      raw.split(',').forEach((entry, i) => {
        const sep = entry.indexOf(':');
        const id = entry.slice(0, sep).trim();
        const b64 = entry.slice(sep + 1).trim();
        const bytes = Buffer.from(b64, 'base64');
        if (sep < 0 || !KEY_ID.test(id)) {
          ctx.addIssue({ code: 'custom', path: [i], message: `entry ${i} must look like <keyId>:<base64>` });
        } else if (!BASE64.test(b64) || bytes.length !== 32) {
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: `key "${id}" must be 32 bytes of base64 (got ${bytes.length} bytes)`,
          });
        } else if (keys.some((k) => k.id === id)) {
          ctx.addIssue({ code: 'custom', path: [i], message: `key id "${id}" is listed twice` });
        } else {
          keys.push({ id, key: bytes });
        }
      });
      return keys;
    }),
);

/** The memory-service environment; parsed once at start-up by loadConfig. */
export const memoryConfigSchema = z
  .object({
    LOG_LEVEL: env.logLevel(),
    ...metricsEnv,
    DATABASE_URL: env.optionalUrl('postgres', 'postgresql'),
    MEMORY_DATABASE_URL: env.optionalUrl('postgres', 'postgresql'),
    NATS_URL: env.optionalUrl('nats'),
    PICARD_DATA_DIR: env.string('./data'),
    /** Loopback unless set: only the deployment's network config (compose, render.yaml) opens it wider. */
    MEMORY_GRPC_HOST: env.string('127.0.0.1'),
    INTERNAL_TOKEN_KEY: env.internalKey(),
    MEMORY_GRPC_PORT: env.port(50052),
    EMBEDDING_GRPC_ADDR: env.string('127.0.0.1:50053'),
    MEMORY_ENCRYPTION_KEYS: encryptionKeys,
    /** Which key encrypts new rows; the last listed by default, so rotation is "append a key". */
    MEMORY_ENCRYPTION_KEY_ID: env.optionalString(),
    MEMORY_MAX_TEXT_CHARS: env.positiveInt(10_000),
    /** hnsw.ef_search for searches (at least twice the limit): 100 keeps recall@10 >= 0.95 at 100k memories. */
    MEMORY_HNSW_EF_SEARCH: env.positiveInt(DEFAULT_EF_SEARCH),
    /** How long an expired memory is kept (hidden) before the sweeper deletes it: 7 days. */
    MEMORY_EXPIRY_GRACE_SECONDS: z.preprocess(
      unsetIfEmpty,
      z.coerce
        .number()
        .int()
        .min(0, 'must be 0 or more seconds')
        .default(7 * 24 * 3600),
    ),
    MEMORY_SWEEP_INTERVAL_SECONDS: env.positiveInt(300),
    /** Earlier versions kept per memory (the newest); older ones go at the memory's next change. */
    MEMORY_HISTORY_MAX_VERSIONS: env.positiveInt(DEFAULT_HISTORY_MAX_VERSIONS),
    /** How often small writes since the last ANALYZE are folded into the planner's statistics. */
    MEMORY_ANALYZE_INTERVAL_SECONDS: env.positiveInt(60),
    /** How hybrid search fuses vector and keyword candidates (see domain/hybrid-ranking.ts). */
    MEMORY_HYBRID_FUSION: z.preprocess(
      unsetIfEmpty,
      z.enum(['rrf', 'weighted']).default(DEFAULT_FUSION.method),
    ),
    /** The keyword side's weight in hybrid fusion (default: the measured best for the method). */
    MEMORY_HYBRID_KEYWORD_WEIGHT: z.preprocess(
      unsetIfEmpty,
      z.coerce.number().min(0, 'must be 0 or more').max(10, 'must be 10 or less').optional(),
    ),
    /** How often memories stored while the embedder was down are retried. */
    MEMORY_EMBEDDING_RETRY_SECONDS: env.positiveInt(30),
    /** auto: at start, re-encrypt rows still under an older key with the active one (online, in batches). */
    MEMORY_KEY_ROTATION: z.preprocess(unsetIfEmpty, z.enum(['auto', 'off']).default('auto')),
  })
  .superRefine((c, ctx) => {
    const id = c.MEMORY_ENCRYPTION_KEY_ID;
    if (id !== undefined && !c.MEMORY_ENCRYPTION_KEYS.some((k) => k.id === id)) {
      ctx.addIssue({
        code: 'custom',
        path: ['MEMORY_ENCRYPTION_KEY_ID'],
        message: `names no key listed in MEMORY_ENCRYPTION_KEYS`,
      });
    }
  });

export type MemoryConfig = z.infer<typeof memoryConfigSchema>;
