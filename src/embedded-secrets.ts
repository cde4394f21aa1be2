import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from './durable-file.js';

/**
 * The data directory holds the databases and the generated secrets: only its owner may enter it
 * (0700), including a directory an older version created more openly.
 */
export async function prepareDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
}

/**
 * The embedded mode must start with no set-up, so secrets that a cluster operator must provide
 * are generated once and kept beside the data (mode 0600). Losing the key file loses the
 * memories: the start-up banner says where it is.
 */
async function readOrCreate(
  path: string,
  create: () => string,
): Promise<{ value: string; created: boolean }> {
  if (existsSync(path)) {
    await chmod(path, 0o600);
    return { value: (await readFile(path, 'utf8')).trim(), created: false };
  }
  const value = create();
  // On the disk before any database is written with it: a lost key is lost data.
  await writeFileDurably(path, `${value}\n`);
  return { value, created: true };
}

/**
 * The generated secrets a data directory keeps beside its databases, by file name. A backup holds
 * them all: without them the databases it holds cannot be read.
 */
export const SECRET_FILES = [
  'memory-encryption-keys',
  'auth-key-encryption-key',
  'admin-password',
  'gateway-session-secret',
] as const;
const [ENCRYPTION_KEYS, AUTH_KEY_ENCRYPTION_KEY, ADMIN_PASSWORD, GATEWAY_SESSION_SECRET] = SECRET_FILES;

/** The embedded databases of a data directory, each in the subdirectory of that name. */
export const EMBEDDED_DATABASES = ['auth', 'memory', 'persona'] as const;
export type EmbeddedDatabaseName = (typeof EMBEDDED_DATABASES)[number];

export const encryptionKeysFile = (dataDir: string) => join(dataDir, ENCRYPTION_KEYS);
export const adminPasswordFile = (dataDir: string) => join(dataDir, ADMIN_PASSWORD);
export const authKeyEncryptionKeyFile = (dataDir: string) => join(dataDir, AUTH_KEY_ENCRYPTION_KEY);

export function loadOrCreateEncryptionKeys(dataDir: string) {
  return readOrCreate(encryptionKeysFile(dataDir), () => `k1:${randomBytes(32).toString('base64')}`);
}

/** AUTH_KEY_ENCRYPTION_KEY: the private signing keys are stored encrypted with it (base64 of 32 bytes). */
export function loadOrCreateAuthKeyEncryptionKey(dataDir: string) {
  return readOrCreate(authKeyEncryptionKeyFile(dataDir), () => randomBytes(32).toString('base64'));
}

/** GATEWAY_SESSION_SECRET: signs the authorization pages' sign-in cookie, so a sign-in outlives a restart. */
export function loadOrCreateGatewaySessionSecret(dataDir: string) {
  return readOrCreate(join(dataDir, GATEWAY_SESSION_SECRET), () => randomBytes(32).toString('base64url'));
}

export function loadOrCreateAdminPassword(dataDir: string) {
  return readOrCreate(adminPasswordFile(dataDir), () => randomBytes(12).toString('base64url'));
}
