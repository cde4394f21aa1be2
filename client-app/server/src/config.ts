import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** client-app/: the nearest folder above this file with a package.json (src/ and dist/ alike). */
export const clientAppDir = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const url = z.url({ protocol: /^https?$/ }).transform((v) => v.replace(/\/+$/, ''));
const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be the base64 of 32 bytes');
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Every setting of the BFF, read from the environment once. A bad value stops start-up with a
 * message naming the variable.
 */
export const configSchema = z.object({
  CLIENT_PORT: port.default(8000),
  CLIENT_HOST: z.string().min(1).default('0.0.0.0'),
  /** Where browsers reach the web app; the OAuth redirect URI is <this>/bff/auth/picard/callback. */
  CLIENT_PUBLIC_URL: url.optional(),
  /** Where the BFF reaches Picard's gateway. */
  PICARD_URL: url.default('http://localhost:8001'),
  /** Picard's public URL (its OAuth issuer), when the BFF reaches the gateway by another address. */
  PICARD_PUBLIC_URL: url.optional(),
  CLIENT_DATA_DIR: z.string().min(1).default('./data/client-app'),
  CLIENT_DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
  ),
  CLIENT_DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('client_app'),
  CLIENT_TOKEN_KEY: optionalString.pipe(base64Key.optional()),
  CLIENT_SESSION_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  PICARD_CLIENT_ID: optionalString,
  PICARD_CLIENT_SECRET: optionalString,
  CLIENT_WEB_DIR: z.string().min(1).default(path.join(clientAppDir, 'web/dist/browser')),
  /** Express's "trust proxy": false, true, a hop count, or addresses/subnets (comma-separated). */
  CLIENT_TRUST_PROXY: z.string().default('false'),
  /** Register with Picard at start when no registration exists (the embedded launcher sets it). */
  CLIENT_AUTO_REGISTER: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  CLIENT_SESSION_TTL_HOURS: positiveInt(24),
  CLIENT_LOGIN_MAX_FAILURES: positiveInt(5),
  CLIENT_LOGIN_MAX_FAILURES_PER_IP: positiveInt(50),
  CLIENT_SIGNUPS_PER_IP_PER_HOUR: positiveInt(20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;

/** The parsed settings plus what follows from them. */
export interface BffConfig extends ParsedConfig {
  publicUrl: string;
  /** Picard's issuer (PICARD_PUBLIC_URL or PICARD_URL). */
  issuer: string;
  redirectUri: string;
  secureCookies: boolean;
  trustProxy: boolean | number | string;
}

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>): BffConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  if (Boolean(c.PICARD_CLIENT_ID) !== Boolean(c.PICARD_CLIENT_SECRET)) {
    throw new ConfigError('invalid configuration: PICARD_CLIENT_ID and PICARD_CLIENT_SECRET go together');
  }
  if (c.CLIENT_DATABASE_URL && !c.CLIENT_TOKEN_KEY) {
    throw new ConfigError('invalid configuration: CLIENT_TOKEN_KEY is required with CLIENT_DATABASE_URL');
  }
  if (c.CLIENT_DATABASE_URL && !c.CLIENT_SESSION_SECRET) {
    throw new ConfigError(
      'invalid configuration: CLIENT_SESSION_SECRET is required with CLIENT_DATABASE_URL',
    );
  }
  return withDerived(c, c.CLIENT_PORT);
}

/** Recomputes what depends on the port (a port of 0 is known only once listening). */
export function withDerived(c: ParsedConfig, actualPort: number): BffConfig {
  const publicUrl = c.CLIENT_PUBLIC_URL ?? `http://localhost:${actualPort}`;
  return {
    ...c,
    publicUrl,
    issuer: c.PICARD_PUBLIC_URL ?? c.PICARD_URL,
    redirectUri: `${publicUrl}/bff/auth/picard/callback`,
    secureCookies: publicUrl.startsWith('https:'),
    trustProxy: parseTrustProxy(c.CLIENT_TRUST_PROXY),
  };
}

function parseTrustProxy(v: string): boolean | number | string {
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}
