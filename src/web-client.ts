/**
 * The web client beside the embedded stack: client-app's backend-for-frontend runs as a child
 * process, as it would anywhere else — a third-party application that reaches Picard over HTTP
 * only — and so on its own event loop (the second core) instead of the one every service shares.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '@picard/service-kit';

const REPO_ROOT = resolve(import.meta.dirname, '..');
export const WEB_CLIENT_MAIN = join(REPO_ROOT, 'client-app/server/dist/server/src/main.js');
const READY_TIMEOUT_MS = 60_000;

export interface WebClient {
  url: string;
  stop(): Promise<void>;
}

export interface WebClientOptions {
  /** The gateway the web client talks to (the embedded stack's public URL). */
  picardUrl: string;
  dataDir: string;
  admin: { username: string; password: string };
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

/**
 * Starts the web client and resolves once it answers /bff/health; it registers itself with
 * Picard on first start (CLIENT_AUTO_REGISTER). Undefined when client-app was not built: that is
 * reported, not fatal, since Picard itself serves on.
 */
export async function startWebClient(o: WebClientOptions): Promise<WebClient | undefined> {
  if (!existsSync(WEB_CLIENT_MAIN)) {
    o.logger.warn(`web client not built (${WEB_CLIENT_MAIN} is missing): run npm run build -w client-app`);
    return undefined;
  }
  const port = Number(o.env.CLIENT_PORT || 8000);
  const url = (o.env.CLIENT_PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  const child = spawn(process.execPath, [WEB_CLIENT_MAIN], {
    env: {
      ...o.env,
      CLIENT_PORT: String(port),
      PICARD_URL: o.env.PICARD_URL || o.picardUrl,
      CLIENT_DATA_DIR: o.env.CLIENT_DATA_DIR || join(o.dataDir, 'client-app'),
      CLIENT_AUTO_REGISTER: o.env.CLIENT_AUTO_REGISTER || 'true',
      PICARD_ADMIN_USERNAME: o.admin.username,
      PICARD_ADMIN_PASSWORD: o.admin.password,
      LOG_LEVEL: o.env.LOG_LEVEL || 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let stopping = false;
  try {
    await waitUntilHealthy(`http://127.0.0.1:${port}/bff/health`, exited);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  child.once('exit', (code, signal) => {
    if (!stopping) o.logger.error({ code, signal }, 'the web client stopped; Picard goes on serving');
  });
  return {
    url,
    async stop() {
      stopping = true;
      await stopChild(child, exited);
    },
  };
}

async function waitUntilHealthy(healthUrl: string, exited: Promise<number | null>) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
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

async function stopChild(child: ChildProcess, exited: Promise<number | null>) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
