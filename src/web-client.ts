/**
 * The web client beside the embedded stack: client-app's backend-for-frontend runs as a child
 * process, as it would anywhere else — a third-party application that reaches Picard over HTTP
 * only — and so on its own event loop (the second core) instead of the one every service shares.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '..');
export const WEB_CLIENT_MAIN = join(REPO_ROOT, 'client-app/server/dist/server/src/main.js');
const READY_TIMEOUT_MS = 60_000;

/**
 * Picard's secrets stay with Picard: the web client is a third-party application and gets only what
 * it needs (the admin's credentials, for its first registration).
 */
const PICARD_SECRETS = [
  'MEMORY_ENCRYPTION_KEYS',
  'AUTH_KEY_ENCRYPTION_KEY',
  'INTERNAL_TOKEN_KEY',
  'GATEWAY_SESSION_SECRET',
  'METRICS_TOKEN',
  'OPENAI_API_KEY',
];

export interface WebClient {
  url: string;
  /** Settles once the web client answers /bff/health, or fails if it exits or never answers. */
  ready: Promise<void>;
  /** Settles when the web client exits without stop() (it crashed or was killed). */
  lost: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface WebClientOptions {
  /** The gateway the web client talks to; its own default (the gateway's) when undefined. */
  picardUrl: string | undefined;
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Starts the web client, which registers itself with Picard on first start (CLIENT_AUTO_REGISTER)
 * once the gateway answers, with the admin password from the environment or the file the launcher
 * keeps in the data directory. Undefined when client-app was not built: the caller reports that,
 * not fatal, since Picard itself serves on. The child is ended when this process exits, and ends
 * itself when this process is killed outright (its IPC channel closes).
 */
export function startWebClient(o: WebClientOptions): WebClient | undefined {
  if (!existsSync(WEB_CLIENT_MAIN)) return undefined;
  const port = Number(o.env.CLIENT_PORT || 8000);
  const url = (o.env.CLIENT_PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    CLIENT_PORT: String(port),
    CLIENT_DATA_DIR: o.env.CLIENT_DATA_DIR || join(o.dataDir, 'client-app'),
    CLIENT_AUTO_REGISTER: o.env.CLIENT_AUTO_REGISTER || 'true',
    PICARD_DATA_DIR: o.dataDir,
    LOG_LEVEL: o.env.LOG_LEVEL || 'warn',
  };
  if (!env.PICARD_URL && o.picardUrl) env.PICARD_URL = o.picardUrl;
  for (const name of PICARD_SECRETS) delete env[name];
  // The IPC channel is how the web client learns that this process is gone, even when it was killed
  // outright (no 'exit' handler runs then): it ends itself when the channel closes.
  const child = spawn(process.execPath, [WEB_CLIENT_MAIN], {
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  child.channel?.unref();
  // A start that fails after this point exits the process: the web client must not outlive it.
  const endChild = () => child.kill('SIGTERM');
  process.once('exit', endChild);
  let stopping = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => {
      process.off('exit', endChild);
      done({ code, signal });
    }),
  );
  const ready = waitUntilHealthy(`http://127.0.0.1:${port}/bff/health`, exited).catch((err: unknown) => {
    child.kill('SIGTERM');
    throw err;
  });
  // Awaited by the caller; until then a failure must not surface as an unhandled rejection.
  ready.catch(() => undefined);
  return {
    url,
    ready,
    lost: exited.then((how) => (stopping ? new Promise<never>(() => undefined) : how)),
    async stop() {
      stopping = true;
      await stopChild(child, exited);
    },
  };
}

async function waitUntilHealthy(healthUrl: string, exited: Promise<{ code: number | null }>) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone: number | null | undefined;
  void exited.then(({ code }) => (gone = code));
  while (Date.now() < deadline) {
    if (gone !== undefined)
      throw new Error(`the web client exited during start-up (code ${gone}); see the messages above`);
    try {
      if ((await fetch(healthUrl)).ok) return;
    } catch {
      // not listening yet
    }
    // Often: the start is ready as soon as this answers (a 200 ms step cost ~0.1 s on average).
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the web client did not answer ${healthUrl} within ${READY_TIMEOUT_MS / 1000} s`);
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
