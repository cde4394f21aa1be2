import { DataDirInUseError } from '@picard/service-kit/start-up';
import { ConfigError } from './config.js';
import { ensureRegistered } from './bff.js';
import { adminFromEnv } from './registration.js';

/**
 * `npm run register-client -w client-app [-- --force]`: registers the web app with Picard as a
 * first-party confidential client, using the admin's credentials, and stores its id and (sealed)
 * secret in the BFF's database. Does nothing when a registration exists, unless --force.
 */
async function main() {
  const force = process.argv.includes('--force');
  const r = await ensureRegistered({
    env: process.env,
    admin: adminFromEnv(process.env),
    force,
    config: { LOG_LEVEL: 'warn' },
  });
  process.stdout.write(
    r.created
      ? `Registered with Picard: client ${r.clientId}\n`
      : `Already registered (client ${r.clientId}); pass --force to register again.\n`,
  );
}

main().catch((err) => {
  const message = err instanceof ConfigError ? err.message : (err as Error).message;
  // The running web app holds its database; registering needs Picard up, so `npm start` users run
  // Picard without the web app for the moment it takes.
  const hint =
    err instanceof DataDirInUseError && err.holder.role === 'web app'
      ? '\n  With `npm start`: stop it, run `PICARD_WEB=off npm start`, register, then `npm start` again.'
      : '';
  process.stderr.write(`register-client: ${message}${hint}\n`);
  process.exit(1);
});
