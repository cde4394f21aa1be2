import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { laterPort } from './test-stack.js';

/**
 * A PostgreSQL server of a suite's own, for faults that would disturb every other suite on the
 * shared one (a restart). Same binaries (and pgvector) as scripts/services.sh installed; as root it
 * runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
export interface PrivatePostgres {
  url: string;
  /** Stops the server (fast: open connections are cut), waits `downMs`, starts it again. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

const PGBIN = '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'picard-private-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await laterPort();
  // Asynchronous: a suite's load keeps running while the server stops and starts.
  const asOwner = async (args: string) => {
    const command = `${PGBIN}/${args}`;
    if (process.getuid?.() === 0) await run('su', ['postgres', '-s', '/bin/sh', '-c', command]);
    else await run('/bin/sh', ['-c', command]);
  };
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = () => asOwner(`pg_ctl -D '${data}' -l '${dir}/pg.log' -w -t 60 -o '${options}' start`);
  const stop = () => asOwner(`pg_ctl -D '${data}' -m fast -w -t 60 stop`);
  await asOwner(`initdb -D '${data}' -U postgres --auth=trust -E UTF8 --no-sync`);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart(downMs) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async stop() {
      try {
        await stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
