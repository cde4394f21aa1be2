import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Claim, ClaimRole } from '@picard/service-kit/start-up';
import { createApp } from './app.js';
import { parseConfig, withDerived, type BffConfig, type ConfigInput } from './config.js';
import { openDatabase, resolveTarget, type Database, type DatabaseTarget } from './db.js';
import { ImportJobs } from './import-jobs.js';
import { createLogger, type Logger } from './logger.js';
import { PicardOAuth } from './oauth.js';
import { PicardClient, PicardHttpError } from './picard.client.js';
import { Registration, type AdminCredentials } from './registration.js';
import { Sealer } from './sealing.js';
import { newKey, newSessionSecret, secretOrGenerated } from './secrets.js';
import { sessions } from './session.js';
import { ClientStore } from './store/client.store.js';
import { TokensStore } from './store/tokens.store.js';
import { UsersStore } from './store/users.store.js';
import { LoginThrottle } from './throttle.js';
import { TokenVault } from './token-vault.js';

export interface BffOptions {
  /** The environment to read (default process.env); `config` entries override it. */
  env?: Record<string, string | undefined>;
  config?: Partial<Record<keyof ConfigInput, string | number>>;
  /** A database to use instead of CLIENT_DATABASE_URL / the data folder (tests); left open at stop. */
  database?: DatabaseTarget;
  logger?: Logger;
  /** Register with Picard at start when no registration exists (embedded first start). */
  autoRegister?: AdminCredentials;
}

export interface RunningBff {
  port: number;
  url: string;
  config: BffConfig;
  /** The BFF's database (tests look at what is stored). */
  knex: Knex;
  vault: TokenVault;
  registration: Registration;
  stop(): Promise<void>;
}

const asEnv = (o: BffOptions): Record<string, string | undefined> => {
  const env: Record<string, string | undefined> = { ...(o.env ?? process.env) };
  for (const [k, v] of Object.entries(o.config ?? {})) env[k] = v === undefined ? undefined : String(v);
  return env;
};

/** Who opens the web app's data folder: the server, or the registration command. */
type FolderUser = Extract<ClaimRole, 'web app' | 'register-client'>;

/**
 * Holds the data folder for `user` while its embedded database is open: PGlite's files take one
 * process, so a second web app, or `register-client` beside a running one, is refused by name
 * ("the web app is running with data in … (pid …): stop it first") instead of opening them too.
 */
async function claimFolder(dataDir: string, user: FolderUser) {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Loaded only for an embedded database; the module is Node built-ins (start-up.ts).
  const { claimDataDir } = await import('@picard/service-kit/start-up');
  return claimDataDir(path.resolve(dataDir), user);
}

/** Settings, keys and the database: what both the server and the registration command need. */
async function openCore(o: BffOptions, user: FolderUser, port?: number) {
  let config = parseConfig(asEnv(o));
  if (port !== undefined) config = withDerived(config, port);
  // Before the keys too: two processes must not generate them at once either.
  const claim =
    o.database || config.CLIENT_DATABASE_URL ? undefined : await claimFolder(config.CLIENT_DATA_DIR, user);
  try {
    return await openClaimed(o, config, claim);
  } catch (err) {
    await claim?.release();
    throw err;
  }
}

async function openClaimed(o: BffOptions, config: BffConfig, claim: Claim | undefined) {
  const logger = o.logger ?? createLogger(config.LOG_LEVEL);
  const tokenKey = await secretOrGenerated({
    value: config.CLIENT_TOKEN_KEY,
    dataDir: config.CLIENT_DATA_DIR,
    file: 'token-key',
    generate: newKey,
  });
  const sessionSecret = await secretOrGenerated({
    value: config.CLIENT_SESSION_SECRET,
    dataDir: config.CLIENT_DATA_DIR,
    file: 'session-secret',
    generate: newSessionSecret,
  });
  const sealer = Sealer.fromBase64(tokenKey);
  const target = o.database ?? (await resolveTarget(config.CLIENT_DATABASE_URL, config.CLIENT_DATA_DIR));
  const opened = await openDatabase(target, config.CLIENT_DATABASE_SCHEMA, !o.database);
  const db: Database = {
    ...opened,
    async close() {
      try {
        await opened.close();
      } finally {
        await claim?.release();
      }
    },
  };
  const picard = new PicardClient(config.PICARD_URL, logger);
  const registration = new Registration(config, new ClientStore(db.knex), sealer, picard, logger);
  return { config, logger, sealer, sessionSecret, db, picard, registration };
}

/**
 * Registers the web app with Picard (admin credentials) unless a registration is configured or
 * stored; `force` registers anew. Opens and closes the BFF's database itself: call it before
 * startBff, not beside it (an embedded database has one user).
 */
export async function ensureRegistered(
  o: BffOptions & { admin: AdminCredentials; force?: boolean },
): Promise<{ clientId: string; created: boolean }> {
  const core = await openCore(o, 'register-client');
  try {
    return await core.registration.ensure(o.admin, o.force);
  } finally {
    await core.db.close();
  }
}

/** Starts the BFF: listens, then serves the SPA and /bff. */
export async function startBff(o: BffOptions = {}): Promise<RunningBff> {
  const initial = parseConfig(asEnv(o));
  // Requests arriving before the app is wired (the database opening) are told to retry.
  const ready: { app?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server: Server = createServer((req, res) => {
    if (ready.app) return ready.app(req, res);
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(
      JSON.stringify({ error: 'starting', message: 'The web app is starting; try again in a moment.' }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(initial.CLIENT_PORT, initial.CLIENT_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let core;
  try {
    core = await openCore(o, 'web app', port);
  } catch (err) {
    server.close();
    throw err;
  }
  const { config, logger, sealer, sessionSecret, db, picard, registration } = core;
  const oauth = new PicardOAuth(
    { issuer: config.issuer, picardUrl: config.PICARD_URL, redirectUri: config.redirectUri },
    () => registration.credentials(),
    logger,
  );
  const vault = new TokenVault(new TokensStore(db.knex), sealer, oauth, logger);
  const throttle = new LoginThrottle(db.knex, db.schema, {
    maxFailures: config.CLIENT_LOGIN_MAX_FAILURES,
    maxFailuresPerIp: config.CLIENT_LOGIN_MAX_FAILURES_PER_IP,
    signupsPerIpPerHour: config.CLIENT_SIGNUPS_PER_IP_PER_HOUR,
  });
  const session = sessions({
    knex: db.knex,
    secret: sessionSecret,
    secure: config.secureCookies,
    ttlHours: config.CLIENT_SESSION_TTL_HOURS,
  });
  const deps = {
    config,
    logger,
    picard,
    oauth,
    vault,
    users: new UsersStore(db.knex),
    registration,
    throttle,
    jobs: new ImportJobs(),
  };
  // Until registered, every request (health included) answers 503 "starting": a launcher or load
  // balancer waits, and nobody signs up against a web app that cannot reach Picard yet.
  if (o.autoRegister) await registerWhenPicardAnswers(registration, o.autoRegister, logger);
  ready.app = createApp(deps, session.middleware);

  const host =
    config.CLIENT_HOST === '0.0.0.0' || config.CLIENT_HOST === '::' ? 'localhost' : config.CLIENT_HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, publicUrl: config.publicUrl, picard: config.PICARD_URL }, 'web app listening');

  let stopped: Promise<void> | undefined;
  return {
    port,
    url,
    config,
    knex: db.knex,
    vault,
    registration,
    stop() {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        });
        session.close();
        await db.close();
      })();
      return stopped;
    },
  };
}

/**
 * Registers with Picard, retrying: in a cluster the gateway may start after the web app, and
 * `npm start` starts both at once, so start order must not matter. In the first 15 s, while Picard
 * is not answering yet (no connection, or 503 while it starts), that is normal start-up: tried
 * every 200 ms (the web app is ready as soon as Picard is) and logged at debug level only.
 * Otherwise with growing pauses, from 1 s up to 30 s: an answer such as a refused admin password
 * must not turn into a stream of sign-in attempts.
 */
async function registerWhenPicardAnswers(
  registration: Registration,
  admin: AdminCredentials,
  logger: Logger,
) {
  const quietUntil = Date.now() + 15_000;
  for (let attempt = 1, backoffMs = 1000; ; attempt++) {
    try {
      await registration.ensure(admin);
      return;
    } catch (err) {
      const quiet = Date.now() < quietUntil;
      const starting = quiet && (!(err instanceof PicardHttpError) || err.status === 503);
      const pauseMs = starting ? 200 : backoffMs;
      if (!starting) backoffMs = Math.min(Math.round(backoffMs * 1.5), 30_000);
      logger[quiet ? 'debug' : 'warn'](
        { attempt, retryInSeconds: pauseMs / 1000, cause: (err as Error).message },
        'could not register with Picard yet; retrying (or run npm run register-client -w client-app)',
      );
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
