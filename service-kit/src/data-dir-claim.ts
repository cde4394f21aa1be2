/**
 * One process at a time works on a data directory: Picard itself, a backup that opens the
 * databases, or a restore. Whoever works on it listens on a unix socket inside it (the directory
 * is its owner's alone, 0700), which both marks it as in use and is the control channel through
 * which `npm run backup` asks a running Picard for snapshots. A socket left by a killed process
 * answers nobody: the next claim finds it stale and takes its place.
 */
import { mkdtemp, rm, stat, symlink, unlink } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CONTROL_SOCKET = 'picard.sock';
/** Unix socket paths are limited to 104 bytes (macOS) or 108 (Linux), the terminating NUL included. */
const MAX_SOCKET_PATH = 100;
const PROBE_TIMEOUT_MS = 5_000;

/** Picard's own data directory: 'picard' and its commands; the web app's data folder: 'web app', 'register-client'. */
export type ClaimRole = 'picard' | 'backup' | 'restore' | 'create-admin' | 'web app' | 'register-client';

/** The roles that serve until stopped (the others are commands that finish), as messages name them. */
const RUNNING: Partial<Record<ClaimRole, string>> = { picard: 'Picard', 'web app': 'the web app' };

export interface Holder {
  role: ClaimRole;
  pid: number;
}

/** Serves a control request other than /status; false when the path is not one of its own. */
export type ControlRoutes = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface Claim {
  /** Stops answering and removes the socket (unless the directory was replaced meanwhile). */
  release(): Promise<void>;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: Holder,
  ) {
    const running = RUNNING[holder.role];
    super(
      running
        ? `${running} is running with data in ${dataDir} (pid ${holder.pid}): stop it first.`
        : `a ${holder.role} (pid ${holder.pid}) is working on ${dataDir}: wait until it has finished.`,
    );
  }
}

/** Who works on the data directory now, or undefined when nobody does. */
export async function dataDirHolder(dataDir: string): Promise<Holder | undefined> {
  const reply = await controlRequest(dataDir, 'GET', '/status').catch((err: NodeJS.ErrnoException) => {
    // Nothing listens: no socket, or one left by a process that is gone.
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return undefined;
    throw new Error(`could not tell whether ${dataDir} is in use (${err.message})`);
  });
  if (!reply) return undefined;
  try {
    const holder = JSON.parse(reply.body.toString()) as Holder;
    return { role: holder.role, pid: holder.pid };
  } catch {
    throw new Error(
      `something other than Picard answers on ${join(dataDir, CONTROL_SOCKET)}: ` +
        'remove that socket if nothing uses the directory',
    );
  }
}

/**
 * Claims the data directory for `role`, or throws DataDirInUseError naming who holds it. `routes`
 * answers the control requests beside /status (the running Picard's snapshots).
 */
export async function claimDataDir(dataDir: string, role: ClaimRole, routes?: ControlRoutes): Promise<Claim> {
  const server = createServer((req, res) => {
    void answer(req, res, role, routes);
  });
  const direct = join(dataDir, CONTROL_SOCKET);
  for (let attempt = 0; ; attempt++) {
    try {
      await viaShortPath(dataDir, (path) => listen(server, path));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) throw err;
      const holder = await dataDirHolder(dataDir);
      if (holder) throw new DataDirInUseError(dataDir, holder);
      await unlink(direct).catch(() => undefined);
    }
  }
  const { ino } = await stat(direct);
  return {
    async release() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Closing removes the socket by the path it was bound to; one bound through a short link (or
      // in a directory that a restore moved) is removed here, and only if it is still this one.
      const now = await stat(direct).catch(() => undefined);
      if (now?.ino === ino) await unlink(direct).catch(() => undefined);
    },
  };
}

/** A request to whoever holds the data directory, over its control socket. */
export function controlRequest(
  dataDir: string,
  method: string,
  path: string,
): Promise<{ status: number; body: Buffer }> {
  return viaShortPath(
    dataDir,
    (socketPath) =>
      new Promise((resolve, reject) => {
        const req = request({ socketPath, method, path }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        });
        // Only the wait for the holder's first answer is bounded; a snapshot may take long.
        req.setTimeout(method === 'GET' ? PROBE_TIMEOUT_MS : 0, () =>
          req.destroy(
            new Error(`no answer on ${join(dataDir, CONTROL_SOCKET)} within ${PROBE_TIMEOUT_MS} ms`),
          ),
        );
        req.on('error', reject);
        req.end();
      }),
  );
}

async function answer(req: IncomingMessage, res: ServerResponse, role: ClaimRole, routes?: ControlRoutes) {
  try {
    if (req.method === 'GET' && req.url === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ role, pid: process.pid } satisfies Holder));
      return;
    }
    if (routes && (await routes(req, res))) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `no control request ${req.method} ${req.url}` }));
  } catch (err) {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: (err as Error).message }));
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Runs `use` with a path to the control socket short enough to bind or connect to: the direct one,
 * or, for a deep data directory, the same socket reached through a symbolic link in the temporary
 * directory (the socket itself stays in the data directory, behind its permissions).
 */
async function viaShortPath<T>(dataDir: string, use: (socketPath: string) => Promise<T>): Promise<T> {
  const direct = join(dataDir, CONTROL_SOCKET);
  if (Buffer.byteLength(direct) <= MAX_SOCKET_PATH) return use(direct);
  const hop = await mkdtemp(join(tmpdir(), 'picard-'));
  try {
    await symlink(dataDir, join(hop, 'd'));
    return await use(join(hop, 'd', CONTROL_SOCKET));
  } finally {
    await rm(hop, { recursive: true, force: true });
  }
}
