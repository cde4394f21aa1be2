import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { claimDataDir, createLogger, DomainError, exitOnStartupError, loadConfig } from '@picard/service-kit';
import { authConfigSchema } from './config.js';
import { AuthStore } from './store/auth.store.js';
import { UsersService } from './domain/users.service.js';
import { adminSettingError, authDatabaseTarget, openAuthDatabase } from './service.js';

const USAGE = `Usage: npm run create-admin -- --username <name> --password <secret> [--email <address>]
Flags fall back to PICARD_ADMIN_USERNAME, PICARD_ADMIN_PASSWORD and PICARD_ADMIN_EMAIL.
In the embedded mode run it while Picard is stopped: the PGlite database admits one process
(it refuses to start while Picard, a backup or a restore works on PICARD_DATA_DIR).`;

/**
 * Creates (or updates) the admin straight in the auth database, with the same rule the service
 * applies at start. Events it records (auth.user.created) wait in the outbox for the next start.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      username: { type: 'string' },
      password: { type: 'string' },
      email: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const env = {
    // No gRPC here: the internal key a running service needs is not asked of this tool.
    INTERNAL_TOKEN_KEY: randomBytes(32).toString('base64url'),
    ...process.env,
    ...(values.username !== undefined ? { PICARD_ADMIN_USERNAME: values.username } : {}),
    ...(values.password !== undefined ? { PICARD_ADMIN_PASSWORD: values.password } : {}),
    ...(values.email !== undefined ? { PICARD_ADMIN_EMAIL: values.email } : {}),
  };
  const config = loadConfig(authConfigSchema, env);
  if (!config.PICARD_ADMIN_USERNAME || !config.PICARD_ADMIN_PASSWORD)
    throw new Error(`--username and --password are required.\n${USAGE}`);
  const logger = createLogger('create-admin', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  // Embedded: the data directory's claim keeps a running Picard (or a backup) off the same PGlite files.
  const embedded = !(config.AUTH_DATABASE_URL ?? config.DATABASE_URL);
  if (embedded) await mkdir(config.PICARD_DATA_DIR, { recursive: true, mode: 0o700 });
  const claim = embedded ? await claimDataDir(config.PICARD_DATA_DIR, 'create-admin') : undefined;
  const knex = await openAuthDatabase(await authDatabaseTarget(config), logger).catch(async (err) => {
    await claim?.release();
    throw err;
  });
  try {
    const admin = await new UsersService(new AuthStore(knex), logger).ensureAdmin({
      username: config.PICARD_ADMIN_USERNAME,
      password: config.PICARD_ADMIN_PASSWORD,
      email: config.PICARD_ADMIN_EMAIL,
    });
    process.stdout.write(`Admin "${admin.username}" is ready (id ${admin.id}).\n`);
  } finally {
    await knex.destroy();
    await claim?.release();
  }
}

main().catch((err) => {
  const named = adminSettingError(err);
  exitOnStartupError(
    named instanceof DomainError ? new Error(`${named.field ?? 'input'}: ${named.message}`) : named,
  );
});
