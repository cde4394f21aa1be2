import { z } from 'zod';
import { env, metricsEnv, unsetIfEmpty } from '@picard/service-kit';

/** The auth-service environment; every key is the variable's name so errors can name it. */
export const authConfigSchema = z
  .object({
    LOG_LEVEL: env.logLevel(),
    ...metricsEnv,
    DATABASE_URL: env.optionalUrl('postgres', 'postgresql'),
    AUTH_DATABASE_URL: env.optionalUrl('postgres', 'postgresql'),
    NATS_URL: env.optionalUrl('nats'),
    PICARD_DATA_DIR: env.string('./data'),
    // The gateway's public URL: issuer and audience of every access token.
    PICARD_PUBLIC_URL: z.preprocess(
      unsetIfEmpty,
      z
        .url({ message: 'must be a URL' })
        .refine((u) => /^https?:\/\//.test(u), { message: 'must start with http:// or https://' })
        .default('http://localhost:8001'),
    ),
    /** Loopback unless set: only the deployment's network config (compose, render.yaml) opens it wider. */
    AUTH_GRPC_HOST: env.string('127.0.0.1'),
    INTERNAL_TOKEN_KEY: env.internalKey(),
    AUTH_GRPC_PORT: env.port(50051),
    ACCESS_TOKEN_TTL_SECONDS: env.positiveInt(3600),
    REFRESH_TOKEN_TTL_SECONDS: env.positiveInt(2592000),
    // OAuth 2.1 caps authorization codes at a few minutes; 5 is the most Picard allows.
    AUTH_CODE_TTL_SECONDS: env.positiveInt(300).pipe(z.number().max(300, { message: 'must be at most 300' })),
    // RFC 7591 registration is open to anyone: a quota per caller address (IPv6 by /64) per hour, and
    // a far higher total per hour (all instances together) that one source alone cannot reach.
    AUTH_DYNAMIC_CLIENTS_PER_SOURCE_PER_HOUR: env.positiveInt(10),
    AUTH_DYNAMIC_CLIENTS_PER_HOUR: env.positiveInt(1000),
    // Login brute-force limits: failures per account and per remote IP within the window.
    AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: env.positiveInt(5),
    AUTH_LOGIN_MAX_FAILURES_PER_IP: env.positiveInt(20),
    AUTH_LOGIN_WINDOW_SECONDS: env.positiveInt(900),
    // Client ID Metadata Documents: a client_id that is an https URL naming its own document.
    AUTH_CIMD_ENABLED: env.bool(true),
    // Development and tests only: lets metadata URLs use http and loopback addresses.
    AUTH_CIMD_ALLOW_LOOPBACK: env.bool(false),
    AUTH_CIMD_TIMEOUT_MS: env.positiveInt(5000),
    // Metadata-document clients are rows anyone can make by presenting a URL: rows unused for this many
    // days are deleted, and past the cap no new URL is admitted (known ones keep working).
    AUTH_CIMD_CLIENT_RETENTION_DAYS: env.positiveInt(30),
    AUTH_CIMD_MAX_CLIENTS: env.positiveInt(10000),
    // Signing-key rotation (issue #3): days a key signs (0: no automatic rotation), and how long a new
    // key sits in the JWKS before it signs, so every gateway's cache holds it first.
    AUTH_SIGNING_KEY_ROTATION_DAYS: z.preprocess(
      unsetIfEmpty,
      z.coerce
        .number()
        .int({ message: 'must be a whole number of days' })
        .min(0, { message: 'must be 0 or more' })
        .max(3650, { message: 'must be at most 3650' })
        .default(30),
    ),
    AUTH_SIGNING_KEY_PUBLISH_AHEAD_SECONDS: z.preprocess(
      unsetIfEmpty,
      z.coerce
        .number()
        .int({ message: 'must be a whole number of seconds' })
        .min(0, { message: 'must be 0 or more' })
        .max(86400, { message: 'must be at most 86400' })
        .default(300),
    ),
    // Base64 of 32 bytes; private signing keys are stored AES-256-GCM encrypted with it (keys stored
    // in plain before it was set are encrypted at start). Required with PostgreSQL (cluster mode);
    // the embedded launcher generates one beside the data.
    AUTH_KEY_ENCRYPTION_KEY: z.preprocess(
      unsetIfEmpty,
      z
        .string()
        .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, {
          message: 'must be the base64 of exactly 32 bytes',
        })
        .optional(),
    ),
    PICARD_ADMIN_USERNAME: z.preprocess(
      unsetIfEmpty,
      z
        .string()
        .regex(/^[A-Za-z0-9._-]{3,64}$/, {
          message: 'must be 3-64 characters of letters, digits, ".", "_" or "-"',
        })
        .optional(),
    ),
    PICARD_ADMIN_PASSWORD: z.preprocess(
      unsetIfEmpty,
      z.string().min(8, { message: 'must be at least 8 characters' }).max(1024).optional(),
    ),
    PICARD_ADMIN_EMAIL: z.preprocess(
      unsetIfEmpty,
      z.email({ message: 'must be an email address' }).optional(),
    ),
  })
  .superRefine((c, ctx) => {
    if ((c.DATABASE_URL || c.AUTH_DATABASE_URL) && !c.AUTH_KEY_ENCRYPTION_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_KEY_ENCRYPTION_KEY'],
        message:
          'is required when auth-service uses PostgreSQL (DATABASE_URL or AUTH_DATABASE_URL): the private signing keys are stored encrypted with it; generate one with `openssl rand -base64 32`',
      });
    }
    if (c.PICARD_ADMIN_USERNAME && !c.PICARD_ADMIN_PASSWORD) {
      ctx.addIssue({
        code: 'custom',
        path: ['PICARD_ADMIN_PASSWORD'],
        message: 'is required when PICARD_ADMIN_USERNAME is set',
      });
    }
    if (c.PICARD_ADMIN_PASSWORD && !c.PICARD_ADMIN_USERNAME) {
      ctx.addIssue({
        code: 'custom',
        path: ['PICARD_ADMIN_USERNAME'],
        message: 'is required when PICARD_ADMIN_PASSWORD is set',
      });
    }
  });

export type AuthConfig = z.infer<typeof authConfigSchema>;
