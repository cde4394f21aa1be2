import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAUNCHER, run, waitFor, type Running } from './support/launcher.js';

/**
 * What a newcomer runs: `npm start` (node dist/embedded.js) as a real child process, with its
 * own data directory. Proves it comes up with the web client beside it (registered with Picard by
 * itself), serves, keeps data across a restart and stops cleanly (web client included) on
 * SIGTERM; that a bad setting stops it with a message naming the variable; and that the web
 * client, started beside Picard from the first moment, gets none of Picard's secrets and does not
 * outlive a start that fails.
 */
const embeddedOnly = process.env.PICARD_TEST_DATABASE_URL ? describe.skip : describe;

/** A launcher's child process (its web client), if it has one. */
function childOf(launcherPid: number): number | undefined {
  try {
    return Number(execFileSync('pgrep', ['-P', String(launcherPid)], { encoding: 'utf8' }).split('\n')[0]);
  } catch {
    return undefined; // pgrep exits 1 when there is none
  }
}

/** Whether a process runs (a zombie nobody reaped yet does not). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The environment of a launcher's web client, by /proc. */
function webClientEnvironment(launcherPid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${childOf(launcherPid)}/environ`, 'utf8').split('\0');
  return new Map(
    entries.filter(Boolean).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

/** A POST to the web client the way its page makes one: session cookie and XSRF header first. */
async function postAsBrowser(webUrl: string, path: string, body: unknown) {
  const session = await fetch(`${webUrl}/bff/session`);
  const cookies = session.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const xsrf = cookies.find((c) => c.startsWith('XSRF-TOKEN='))!.slice('XSRF-TOKEN='.length);
  return fetch(`${webUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-xsrf-token': xsrf, cookie: cookies.join('; ') },
    body: JSON.stringify(body),
  });
}

embeddedOnly('npm start (embedded launcher)', () => {
  let dataDir: string;
  const port = 18_000 + 2 * Math.floor(Math.random() * 500);
  const url = `http://127.0.0.1:${port}`;
  const webPort = port + 1;
  const webUrl = `http://127.0.0.1:${webPort}`;
  const running: Running[] = [];
  const leftovers: string[] = [];
  afterAll(async () => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    for (const dir of leftovers) await rm(dir, { recursive: true, force: true });
  });

  it('has been built (npm install builds it)', () => {
    expect(existsSync(LAUNCHER)).toBe(true);
  });

  it('stops at once on a bad setting, naming the variable', async () => {
    const r = run(LAUNCHER, [], {
      GATEWAY_PORT: 'eighty',
      PICARD_DATA_DIR: join(tmpdir(), 'picard-never-used'),
    });
    expect(await r.exited).toBe(1);
    expect(r.output()).toMatch(/GATEWAY_PORT="eighty"/);
  });

  it('comes up with nothing configured, serves, survives a restart and stops on SIGTERM', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'picard-launcher-'));
    const env = { PICARD_DATA_DIR: dataDir, GATEWAY_PORT: String(port), CLIENT_PORT: String(webPort) };
    const first = run(LAUNCHER, [], env);
    running.push(first);
    await waitFor(first, /Picard is ready in [\d.]+ s/, 150_000);
    // The public URL follows GATEWAY_PORT.
    expect(first.output()).toMatch(new RegExp(`MCP endpoint\\s+http://localhost:${port}/mcp`));
    expect(first.output()).toMatch(new RegExp(`web app\\s+http://localhost:${webPort}`));
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);

    // The web client serves the app and registered itself with Picard: a sign-up there reaches
    // Picard through direct connect.
    expect((await fetch(`${webUrl}/bff/health`)).status).toBe(200);
    expect(await (await fetch(`${webUrl}/`)).text()).toContain('<app-root');
    const webby = { username: 'webby', email: 'webby@example.test', password: 'a long passphrase' };
    expect((await postAsBrowser(webUrl, '/bff/auth/signup', webby)).status).toBe(201);
    // It is a third-party application: Picard's keys (generated or given) are not in its environment.
    const webEnv = webClientEnvironment(first.child.pid!);
    expect(webEnv.get('PICARD_DATA_DIR')).toBe(dataDir);
    expect(webEnv.get('CLIENT_PORT')).toBe(String(webPort));
    expect(webEnv.get('PICARD_URL')).toBe(`http://localhost:${port}`);
    for (const secret of ['MEMORY_ENCRYPTION_KEYS', 'AUTH_KEY_ENCRYPTION_KEY', 'INTERNAL_TOKEN_KEY'])
      expect(webEnv.has(secret)).toBe(false);

    // Generated secrets are private to the owner.
    const keyFile = join(dataDir, 'memory-encryption-keys');
    expect((await stat(keyFile)).mode & 0o077).toBe(0);
    // The signing keys are encrypted at rest with a generated AUTH_KEY_ENCRYPTION_KEY (issue #11).
    const authKeyFile = join(dataDir, 'auth-key-encryption-key');
    expect((await stat(authKeyFile)).mode & 0o077).toBe(0);
    expect(Buffer.from((await readFile(authKeyFile, 'utf8')).trim(), 'base64')).toHaveLength(32);
    // The authorization pages' sign-in cookie is signed with a kept secret: no warning that it is not.
    expect((await stat(join(dataDir, 'gateway-session-secret'))).mode & 0o077).toBe(0);
    expect(first.output()).not.toMatch(/GATEWAY_SESSION_SECRET/);
    const password = (await readFile(join(dataDir, 'admin-password'), 'utf8')).trim();

    const basic = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    const reg = await fetch(`${url}/api/admin/clients/register`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'launcher-test' }),
    });
    expect(reg.status).toBe(201);
    const client = (await reg.json()) as { client_id: string; client_secret: string };
    const tok = await fetch(`${url}/api/user-tokens/user-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: client.client_id,
        client_secret: client.client_secret,
        username: 'lena',
        email: 'lena@example.test',
        create_if_missing: true,
      }),
    });
    const { access_token } = (await tok.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' };
    const stored = await fetch(`${url}/api/tools`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        tool: 'submit_memory',
        data: { text: 'Lena waters the fern on Sundays', permission: 'private' },
      }),
    });
    expect(stored.status).toBe(200);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await expect(fetch(`${webUrl}/bff/health`)).rejects.toThrow();

    const second = run(LAUNCHER, [], env);
    running.push(second);
    await waitFor(second, /Picard is ready/, 150_000);
    // The signing key and the data survived: the old token still works and finds the memory.
    const found = await fetch(`${url}/api/tools`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ tool: 'query_memory', data: { query: 'plant care', limit: 1 } }),
    });
    expect(found.status).toBe(200);
    const body = (await found.json()) as { result: { memories: { text: string }[] } };
    expect(body.result.memories[0]!.text).toBe('Lena waters the fern on Sundays');
    // The web client kept its registration and its accounts.
    const login = await postAsBrowser(webUrl, '/bff/auth/login', {
      username: 'webby',
      password: webby.password,
    });
    expect(login.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 400_000);

  /**
   * A start that fails: its exit code, what it printed, and its web client's process if one was
   * started. The output goes to a file, as to a terminal: through a pipe the web client would end
   * anyway, at its first message after the launcher's end closed the pipe.
   */
  async function failingStart(env: NodeJS.ProcessEnv) {
    // Removed after the suite: a web client left running must not lose its directory meanwhile.
    const failDir = await mkdtemp(join(tmpdir(), 'picard-launcher-fail-'));
    leftovers.push(failDir);
    const outFile = join(failDir, 'output.log');
    const out = openSync(outFile, 'w');
    try {
      const child = spawn(process.execPath, [LAUNCHER], {
        env: {
          PATH: process.env.PATH,
          PICARD_DATA_DIR: join(failDir, 'data'),
          CLIENT_PORT: String(webPort),
          ...env,
        },
        stdio: ['ignore', out, out],
      });
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      let webPid: number | undefined;
      while (child.exitCode === null) {
        webPid ??= childOf(child.pid!);
        await new Promise((res) => setTimeout(res, 25));
      }
      return { code: await exited, output: await readFile(outFile, 'utf8'), webPid };
    } finally {
      closeSync(out);
    }
  }

  async function expectEnded(pid: number, withinMs = 5_000) {
    const until = Date.now() + withinMs;
    while (isRunning(pid) && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    expect(isRunning(pid)).toBe(false);
  }

  it('ends its web client, started at once, when a setting stops the start', async () => {
    const failed = await failingStart({ MEMORY_ENCRYPTION_KEYS: 'not a key' });
    expect(failed.code).toBe(1);
    expect(failed.output).toMatch(/MEMORY_ENCRYPTION_KEYS/);
    expect(failed.webPid).toBeDefined();
    await expectEnded(failed.webPid!);
  }, 200_000);

  it('ends its web client when the gateway cannot take its port', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '0.0.0.0', done));
    const takenPort = (taken.address() as { port: number }).port;
    try {
      const failed = await failingStart({ GATEWAY_PORT: String(takenPort) });
      expect(failed.code).toBe(1);
      expect(failed.output).toMatch(new RegExp(`Picard could not start:[\\s\\S]*${takenPort}`));
      expect(failed.webPid).toBeDefined();
      await expectEnded(failed.webPid!);
    } finally {
      taken.close();
    }
  }, 200_000);

  it('its web client ends when the launcher is killed outright (SIGKILL)', async () => {
    const killedDir = await mkdtemp(join(tmpdir(), 'picard-launcher-killed-'));
    leftovers.push(killedDir);
    const launcher = run(LAUNCHER, [], {
      PICARD_DATA_DIR: killedDir,
      GATEWAY_PORT: String(port),
      CLIENT_PORT: String(webPort),
    });
    running.push(launcher);
    await waitFor(launcher, /Picard is ready in [\d.]+ s/, 150_000);
    const webPid = childOf(launcher.child.pid!);
    expect(webPid).toBeDefined();
    expect((await fetch(`${webUrl}/bff/health`)).status).toBe(200);
    launcher.child.kill('SIGKILL');
    await launcher.exited;
    try {
      await expectEnded(webPid!, 15_000);
    } finally {
      if (isRunning(webPid!)) process.kill(webPid!, 'SIGKILL');
    }
    await expect(fetch(`${webUrl}/bff/health`)).rejects.toThrow();
  }, 200_000);
});
