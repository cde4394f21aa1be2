import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ADMIN, callTool } from './test-stack.js';

/** `npm start`, `npm run backup` and `npm run restore` as built (node dist/…). */
export const LAUNCHER = join(process.cwd(), 'dist', 'embedded.js');
export const BACKUP = join(process.cwd(), 'dist', 'backup.js');
export const RESTORE = join(process.cwd(), 'dist', 'restore.js');

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** A built entry point as a child process, its stdout and stderr gathered together. */
export function run(entry: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** The embedded launcher on `dataDir`, serving on `port`, with the e2e admin and no web client. */
export function launch(dataDir: string, port: number, env: NodeJS.ProcessEnv = {}): Running {
  return run(LAUNCHER, [], {
    ...env,
    PICARD_DATA_DIR: dataDir,
    GATEWAY_PORT: String(port),
    PICARD_WEB: 'off',
    PICARD_ADMIN_USERNAME: ADMIN.username,
    PICARD_ADMIN_PASSWORD: ADMIN.password,
    PICARD_ADMIN_EMAIL: ADMIN.email,
  });
}

export async function waitFor(r: Running, pattern: RegExp, ms = 150_000): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(r.output())) {
    if (r.child.exitCode !== null || r.child.signalCode !== null || Date.now() > until)
      throw new Error(`did not see ${pattern}:\n${r.output()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** A command run to its end: its exit code and what it printed. */
export async function runToEnd(entry: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = run(entry, args, env);
  const code = await r.exited;
  return { code, output: r.output() };
}

/** Every memory the token's user owns, id → text (retrieve_memories decrypts them), all pages. */
export async function memoriesOf(t: { url: string }, token: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let cursor: string | undefined;
  do {
    const res = await callTool(t, token, 'retrieve_memories', { limit: 1000, ...(cursor ? { cursor } : {}) });
    if (res.status !== 200) throw new Error(`retrieve_memories: ${res.status} ${res.text}`);
    const page = res.json.result as { memories: { id: string; text: string }[]; next_cursor: string | null };
    for (const m of page.memories) found.set(m.id, m.text);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return found;
}
