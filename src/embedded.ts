/**
 * `npm start`: every Picard service in one Node process. They still talk gRPC over loopback
 * (ephemeral ports on 127.0.0.1), each keeps its own database (embedded PGlite under
 * PICARD_DATA_DIR, or PostgreSQL when DATABASE_URL is set) and events flow over the in-process
 * bus (or NATS when NATS_URL is set). Same code as the cluster, packed into one process.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import {
  claimDataDir,
  connectEventBus,
  createLogger,
  DataDirInUseError,
  exitOnStartupError,
  onShutdownSignal,
  resolveDatabaseTarget,
  type DatabaseTarget,
} from '@picard/service-kit';
import { preloadOfflineModel } from '@picard/embedding-service';
import {
  adminPasswordFile,
  encryptionKeysFile,
  loadOrCreateAdminPassword,
  loadOrCreateAuthKeyEncryptionKey,
  loadOrCreateEncryptionKeys,
  prepareDataDir,
} from './embedded-secrets.js';
import { printBanner } from './embedded-banner.js';
import { snapshotRoute } from './snapshot-route.js';
import { loadStackConfigs, startStack } from './stack.js';
import { startWebClient } from './web-client.js';

async function main() {
  const started = performance.now();
  const dataDir = resolve(process.env.PICARD_DATA_DIR || './data');
  await prepareDataDir(dataDir);
  const logLevel = process.env.LOG_LEVEL || 'warn';
  const logger = createLogger('picard', logLevel);
  // Before anything in the directory is opened: one process at a time (a second Picard, or a
  // backup or restore at work, is refused), and the channel `npm run backup` takes snapshots by.
  // A file system without unix sockets costs those two, not the start.
  const opening = new Map<string, Promise<DatabaseTarget>>();
  const claim = await claimDataDir(
    dataDir,
    'picard',
    snapshotRoute((name) => opening.get(name)),
  ).catch((err: NodeJS.ErrnoException) => {
    // Only a socket the file system refuses (a system error code) is passed over; a holder, or one
    // that does not answer, stops the start.
    if (err instanceof DataDirInUseError || !err.code) throw err;
    logger.warn(
      { err: err.message },
      'no control socket in the data directory: a second start on it is not refused, and `npm run backup` needs Picard stopped',
    );
    return undefined;
  });
  const onStep = (what: string) =>
    process.stdout.write(`  ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s  ${what}\n`);
  process.stdout.write(`Picard is starting (data in ${dataDir})\n`);

  const env: NodeJS.ProcessEnv = { ...process.env, PICARD_DATA_DIR: dataDir };
  const keysGenerated = !env.MEMORY_ENCRYPTION_KEYS;
  if (keysGenerated) env.MEMORY_ENCRYPTION_KEYS = (await loadOrCreateEncryptionKeys(dataDir)).value;
  // Signing keys at rest are always encrypted; without this key they only sign new tokens after a restart.
  env.AUTH_KEY_ENCRYPTION_KEY ||= (await loadOrCreateAuthKeyEncryptionKey(dataDir)).value;
  let generatedAdminPassword: string | undefined;
  if (!env.PICARD_ADMIN_PASSWORD) {
    env.PICARD_ADMIN_USERNAME ||= 'admin';
    env.PICARD_ADMIN_EMAIL ||= 'admin@picard.local';
    env.PICARD_ADMIN_PASSWORD = generatedAdminPassword = (await loadOrCreateAdminPassword(dataDir)).value;
  }
  // The public URL follows the port actually served, so discovery documents, token audiences and
  // the web client all point at it when only GATEWAY_PORT is moved.
  if (!env.PICARD_PUBLIC_URL && /^\d+$/.test(env.GATEWAY_PORT ?? ''))
    env.PICARD_PUBLIC_URL = `http://localhost:${env.GATEWAY_PORT}`;
  // Validation only: startStack makes the in-process internal key when none is set.
  const configs = loadStackConfigs({ INTERNAL_TOKEN_KEY: randomBytes(32).toString('base64url'), ...env });
  const publicUrl = configs.gateway.PICARD_PUBLIC_URL.replace(/\/+$/, '');

  // The web client is a separate process with its own database: it starts now, beside Picard, and
  // registers itself once the gateway answers (later starts need nothing from Picard to come up).
  // PICARD_WEB=off runs Picard alone (the web client is a separate application).
  const webStarting =
    env.PICARD_WEB === 'off'
      ? undefined
      : startWebClient({
          picardUrl: publicUrl,
          dataDir,
          admin: { username: env.PICARD_ADMIN_USERNAME || 'admin', password: env.PICARD_ADMIN_PASSWORD! },
          env,
          logger,
        });
  // Until it is awaited below, a failure must not surface as an unhandled rejection.
  webStarting?.catch(() => undefined);

  // The offline embedding model loads in its own thread meanwhile (startStack waits for it).
  if (configs.embedding.EMBEDDING_PROVIDER === 'offline')
    preloadOfflineModel({ nice: configs.embedding.EMBEDDING_OFFLINE_NICE });
  // The slow parts (three embedded databases, each in its own thread) open together while the bus
  // connects; each service starts as soon as its own database is open.
  const databases = {
    auth: resolveDatabaseTarget(env.AUTH_DATABASE_URL || env.DATABASE_URL, dataDir, 'auth'),
    memory: resolveDatabaseTarget(env.MEMORY_DATABASE_URL || env.DATABASE_URL, dataDir, 'memory'),
    persona: resolveDatabaseTarget(env.PERSONA_DATABASE_URL || env.DATABASE_URL, dataDir, 'persona'),
  };
  for (const [name, database] of Object.entries(databases)) opening.set(name, database);
  const bus = await connectEventBus(env.NATS_URL, 'picard-embedded', logger);
  void Promise.all([databases.auth, databases.memory, databases.persona]).then(
    ([auth]) =>
      onStep(
        `databases open (${auth.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'}), event bus ${bus.kind}`,
      ),
    () => undefined,
  );
  const stack = await startStack({ env, databases, bus, logLevel, onStep }).catch(async (err) => {
    await (await webStarting?.catch(() => undefined))?.stop();
    throw err;
  });
  const web = await webStarting?.catch(async (err) => {
    await stack.stop();
    await bus.close();
    throw err;
  });
  if (web) onStep(`web client up (${web.url})`);
  printBanner({
    publicUrl,
    webUrl: web?.url,
    seconds: (performance.now() - started) / 1000,
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

main().catch(exitOnStartupError);
