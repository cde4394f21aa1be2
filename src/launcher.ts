/**
 * `npm start` after its entry (embedded.ts): every Picard service in one Node process. They still
 * talk gRPC over loopback (ephemeral ports on 127.0.0.1), each keeps its own database (embedded
 * PGlite under PICARD_DATA_DIR, or PostgreSQL when DATABASE_URL is set) and events flow over the
 * in-process bus (or NATS when NATS_URL is set). Same code as the cluster, packed into one process.
 */
import { randomBytes } from 'node:crypto';
import { connectEventBus, createLogger, exitOnStartupError, onShutdownSignal } from '@picard/service-kit';
import {
  adminPasswordFile,
  encryptionKeysFile,
  loadOrCreateAdminPassword,
  loadOrCreateAuthKeyEncryptionKey,
  loadOrCreateEncryptionKeys,
  loadOrCreateGatewaySessionSecret,
} from './embedded-secrets.js';
import { printBanner } from './embedded-banner.js';
import { claimIsFatal, embeddedPublicUrl, type EarlyStart } from './early-start.js';
import { loadStackConfigs, startStack } from './stack.js';
import { WEB_CLIENT_MAIN } from './web-client.js';

async function main({ dataDir, prepared, claimed, databases, web: webStarted }: EarlyStart) {
  await prepared;
  const logLevel = process.env.LOG_LEVEL || 'warn';
  const logger = createLogger('picard', logLevel);
  // Claimed before anything in the directory was opened: one process at a time (a second Picard,
  // or a backup or restore at work, is refused), and the channel `npm run backup` takes snapshots
  // by. A file system without unix sockets costs those two, not the start.
  const claim = await claimed.catch((err: NodeJS.ErrnoException) => {
    if (claimIsFatal(err)) throw err;
    logger.warn(
      { err: err.message },
      'no control socket in the data directory: a second start on it is not refused, and `npm run backup` needs Picard stopped',
    );
    return undefined;
  });
  // Times count from the process's start (Node's time origin): the module loading before this
  // function is part of the wait a user sees.
  const onStep = (what: string) =>
    process.stdout.write(`  ${(performance.now() / 1000).toFixed(1).padStart(5)} s  ${what}\n`);
  process.stdout.write(`Picard is starting (data in ${dataDir})\n`);

  const env: NodeJS.ProcessEnv = { ...process.env, PICARD_DATA_DIR: dataDir };
  const keysGenerated = !env.MEMORY_ENCRYPTION_KEYS;
  if (keysGenerated) env.MEMORY_ENCRYPTION_KEYS = (await loadOrCreateEncryptionKeys(dataDir)).value;
  // Signing keys at rest are always encrypted; without this key they only sign new tokens after a restart.
  env.AUTH_KEY_ENCRYPTION_KEY ||= (await loadOrCreateAuthKeyEncryptionKey(dataDir)).value;
  env.GATEWAY_SESSION_SECRET ||= (await loadOrCreateGatewaySessionSecret(dataDir)).value;
  let generatedAdminPassword: string | undefined;
  if (!env.PICARD_ADMIN_PASSWORD) {
    env.PICARD_ADMIN_USERNAME ||= 'admin';
    env.PICARD_ADMIN_EMAIL ||= 'admin@picard.local';
    env.PICARD_ADMIN_PASSWORD = generatedAdminPassword = (await loadOrCreateAdminPassword(dataDir)).value;
  }
  env.PICARD_PUBLIC_URL ||= embeddedPublicUrl(env);
  // Validation only: startStack makes the in-process internal key when none is set.
  const configs = loadStackConfigs({ INTERNAL_TOKEN_KEY: randomBytes(32).toString('base64url'), ...env });
  const publicUrl = configs.gateway.PICARD_PUBLIC_URL.replace(/\/+$/, '');

  // The web client is a separate process with its own database, started by the entry beside Picard
  // (early-start.ts); it registers itself once the gateway answers (later starts need nothing from
  // Picard to come up). PICARD_WEB=off runs Picard alone (the web client is a separate application).
  const webClient = await webStarted;
  if (!webClient && env.PICARD_WEB !== 'off')
    logger.warn(`web client not built (${WEB_CLIENT_MAIN} is missing): run npm run build -w client-app`);

  // The offline embedding model is loading in its own thread since the entry started it
  // (embedded.ts); startStack waits for it.
  // The embedded databases (each in its own thread) have been opening since the entry started
  // them; each service starts as soon as its own database is open.
  const bus = await connectEventBus(env.NATS_URL, 'picard-embedded', logger);
  void Promise.all([databases.auth, databases.memory, databases.persona]).then(
    ([auth]) =>
      onStep(
        `databases open (${auth.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'}), event bus ${bus.kind}`,
      ),
    () => undefined,
  );
  const stack = await startStack({ env, databases, bus, logLevel, onStep }).catch(async (err) => {
    await webClient?.stop();
    throw err;
  });
  const web = await webClient?.ready.then(
    () => webClient,
    async (err) => {
      await stack.stop();
      await bus.close();
      throw err;
    },
  );
  if (web) {
    onStep(`web client up (${web.url})`);
    void web.lost.then((how) => logger.error(how, 'the web client stopped; Picard goes on serving'));
  }
  printBanner({
    publicUrl,
    webUrl: web?.url,
    seconds: performance.now() / 1000,
    admin: {
      username: env.PICARD_ADMIN_USERNAME!,
      generatedPassword: generatedAdminPassword,
      passwordFile: adminPasswordFile(dataDir),
    },
    keysFile: keysGenerated ? encryptionKeysFile(dataDir) : undefined,
  });

  onShutdownSignal(logger, async () => {
    await web?.stop();
    await stack.stop();
    await bus.close();
    await claim?.release();
  });
}

/** Runs Picard after the entry's early steps (embedded.ts); a start-up error ends the process. */
export function launch(early: EarlyStart): Promise<void> {
  return main(early).catch(exitOnStartupError);
}
