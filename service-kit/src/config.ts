import { z } from 'zod';

/** A configuration problem found at start-up; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const SECRET_NAME = /PASSWORD|SECRET|KEY|TOKEN/i;

/**
 * Parses the environment once against a zod schema whose keys are the variable names,
 * so an error can always say which variable is missing or bad.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const value = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
      if (value === undefined) return `${name}: ${issue.message}`;
      // Never echo a secret into logs or a terminal: name it, hide the value.
      const shown = SECRET_NAME.test(name) ? '(hidden)' : JSON.stringify(value);
      return `${name}=${shown}: ${issue.message}`;
    }),
  );
}

/** For z.preprocess: an empty variable counts as not set (compose's `${VAR:-}` passes one for an unset variable). */
export const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);

/** Reusable pieces of environment schemas. Empty strings count as "not set". */
export const env = {
  port: (fallback: number) =>
    z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65535).default(fallback)),
  optionalUrl: (...protocols: string[]) =>
    z.preprocess(
      unsetIfEmpty,
      z
        .url({ message: 'must be a URL' })
        .refine((u) => protocols.length === 0 || protocols.some((p) => u.startsWith(`${p}:`)), {
          message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
        })
        .optional(),
    ),
  string: (fallback: string) => z.preprocess(unsetIfEmpty, z.string().default(fallback)),
  optionalString: () => z.preprocess(unsetIfEmpty, z.string().optional()),
  positiveInt: (fallback: number) =>
    z.preprocess(unsetIfEmpty, z.coerce.number().int().positive().default(fallback)),
  /** A whole number from `min` to `max`; `message` (the loader prefixes the variable) names the range. */
  intWithin: (
    fallback: number,
    min: number,
    max: number,
    message = `must be a whole number from ${min} to ${max}`,
  ) =>
    z.preprocess(
      unsetIfEmpty,
      z.coerce
        .number({ message })
        .int({ message })
        .min(min, { message })
        .max(max, { message })
        .default(fallback),
    ),
  logLevel: () =>
    z.preprocess(
      unsetIfEmpty,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
  /** INTERNAL_TOKEN_KEY: required wherever a service runs on its own (the embedded stack makes one). */
  internalKey: () =>
    z.preprocess(
      unsetIfEmpty,
      z
        .string({
          message:
            'is required: a secret of at least 32 characters shared by every Picard service, which signs internal gRPC calls (openssl rand -base64 32)',
        })
        .min(32, { message: 'must be at least 32 characters (openssl rand -base64 32)' }),
    ),
  bool: (fallback: boolean) =>
    z.preprocess(
      unsetIfEmpty,
      z
        .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
        .default(fallback ? 'true' : 'false')
        .transform((v) => v === 'true' || v === '1' || v === 'yes'),
    ),
};

/** METRICS_*: each service's Prometheus endpoint (metrics.ts); the gateway serves it on its own port. */
export const metricsEnv = {
  METRICS_PORT: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65535).optional()),
  METRICS_HOST: env.string('127.0.0.1'),
  METRICS_TOKEN: env.optionalString(),
};
