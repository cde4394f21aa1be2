import { resolve } from 'node:path';
import {
  claimDataDir,
  DataDirInUseError,
  resolveDatabaseTarget,
  type Claim,
  type DatabaseTarget,
} from '@picard/service-kit/start-up';
import { prepareDataDir } from './embedded-secrets.js';
import { snapshotRoute } from './snapshot-route.js';
import { startWebClient, type WebClient } from './web-client.js';

export type DatabaseName = 'auth' | 'memory' | 'persona';

/**
 * Each embedded database's buffer pool. PGlite sets the whole pool up at every start (~80 ms of CPU
 * for PostgreSQL's default 128 MB): accounts, tokens and persona settings are small; memories keep
 * the default, which holds the search index of tens of thousands of memories.
 */
export const SHARED_BUFFERS: Record<DatabaseName, string | undefined> = {
  auth: '16MB',
  memory: undefined,
  persona: '16MB',
};

/** The slow, independent first steps of `npm start`, under way while the rest of Picard loads. */
export interface EarlyStart {
  dataDir: string;
  /** The data directory exists, private to this user. */
  prepared: Promise<void>;
  /** One process at a time works on the directory (see claimDataDir); claimIsFatal sorts failures. */
  claimed: Promise<Claim>;
  /** Each service's database: opening as soon as the directory is claimed. */
  databases: Record<DatabaseName, Promise<DatabaseTarget>>;
  /**
   * The web client (a child process), started as soon as the directory is claimed: it takes as long
   * to come up as Picard's services, so it starts beside them. Undefined with PICARD_WEB=off or when
   * client-app was not built.
   */
  web: Promise<WebClient | undefined>;
}

/**
 * PICARD_PUBLIC_URL, or the one that follows GATEWAY_PORT when only the port is moved: discovery
 * documents, token audiences and the web client then all point at the port actually served.
 * Undefined leaves the gateway's default.
 */
export function embeddedPublicUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (env.PICARD_PUBLIC_URL) return env.PICARD_PUBLIC_URL.replace(/\/+$/, '');
  if (/^\d+$/.test(env.GATEWAY_PORT ?? '')) return `http://localhost:${env.GATEWAY_PORT}`;
  return undefined;
}

/**
 * Whether a failed claim stops the start. Only a socket the file system refuses (a system error
 * code) is passed over, costing a second start's refusal and online backups; a holder, or one that
 * does not answer, stops it.
 */
export function claimIsFatal(err: unknown): boolean {
  return err instanceof DataDirInUseError || !(err as NodeJS.ErrnoException).code;
}

/**
 * Claims the data directory and opens the embedded databases (each in its own thread), before
 * anything in it is touched by another step. Nothing is awaited here: the launcher awaits each
 * promise where it needs it, so a failure surfaces there, as any start-up error does.
 */
export function startEarly(env: NodeJS.ProcessEnv): EarlyStart {
  const dataDir = resolve(env.PICARD_DATA_DIR || './data');
  const opening = new Map<string, Promise<DatabaseTarget>>();
  const prepared = prepareDataDir(dataDir);
  // Answers `npm run backup`'s snapshot requests with the databases opened below.
  const claimed = prepared.then(() =>
    claimDataDir(
      dataDir,
      'picard',
      snapshotRoute((name) => opening.get(name)),
    ),
  );
  const mayOpen = prepared.then(
    () =>
      claimed.then(
        () => true,
        (err: unknown) => !claimIsFatal(err),
      ),
    () => false,
  );
  const open = (name: DatabaseName, url: string | undefined) => {
    const database = mayOpen.then((ok) =>
      ok
        ? resolveDatabaseTarget(url, dataDir, name, { sharedBuffers: SHARED_BUFFERS[name] })
        : Promise.reject(new Error('the data directory was not claimed')),
    );
    opening.set(name, database);
    // Awaited by the launcher; until then a failure must not surface as an unhandled rejection.
    database.catch(() => undefined);
    return database;
  };
  prepared.catch(() => undefined);
  claimed.catch(() => undefined);
  const web = mayOpen.then((ok) =>
    ok && env.PICARD_WEB !== 'off'
      ? startWebClient({ picardUrl: embeddedPublicUrl(env), dataDir, env })
      : undefined,
  );
  return {
    dataDir,
    prepared,
    claimed,
    databases: {
      auth: open('auth', env.AUTH_DATABASE_URL || env.DATABASE_URL),
      memory: open('memory', env.MEMORY_DATABASE_URL || env.DATABASE_URL),
      persona: open('persona', env.PERSONA_DATABASE_URL || env.DATABASE_URL),
    },
    web,
  };
}
