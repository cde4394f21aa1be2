import { ConfigError } from './config.js';
import { startBff } from './bff.js';
import { parseConfig } from './config.js';
import { adminFromEnv } from './registration.js';

/** `npm start -w client-app`: the BFF alone, configured by the environment; stops cleanly on a signal. */
async function main() {
  const config = parseConfig(process.env);
  const bff = await startBff({
    env: process.env,
    // First start beside an embedded Picard: register with the admin's credentials.
    autoRegister: config.CLIENT_AUTO_REGISTER ? adminFromEnv(process.env) : undefined,
  });
  process.stdout.write(`Picard web: ${bff.config.publicUrl} (Picard at ${bff.config.PICARD_URL})\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping\n`);
    bff.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`stop failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Started by `npm start` (src/web-client.ts), with an IPC channel: when it closes, the launcher is
  // gone, perhaps killed outright, and the web app must not hold its port and data folder on.
  if (process.channel) {
    process.channel.unref();
    process.once('disconnect', () => stop('launcher gone'));
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).stack}\n`);
  process.exit(1);
});
