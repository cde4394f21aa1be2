import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BACKUP, launch, memoriesOf, RESTORE, runToEnd, waitFor, type Running } from './support/launcher.js';
import { callTool, laterPort, registerClient, userToken } from './support/test-stack.js';

/**
 * Issue #12: `npm run backup` of a running embedded Picard, `npm run restore` into a new data
 * directory, and a start on it: exactly the memories acknowledged before the backup are there,
 * decrypted (the archive carries the keys); those written after it are not. Restore refuses a
 * directory in use or holding data, and an archive that is not a whole Picard backup.
 */
const CREATE_ADMIN = join(process.cwd(), 'auth-service', 'dist', 'create-admin.js');
const ADMIN_ARGS = ['--username', 'night-ops', '--password', 'a long night-ops passphrase'];

const embeddedOnly = process.env.PICARD_TEST_DATABASE_URL ? describe.skip : describe;

interface Write {
  id: string;
  text: string;
  sentAt: number;
  answeredAt: number;
}

embeddedOnly('npm run backup / npm run restore (embedded)', () => {
  let root: string;
  let source: string;
  let restored: string;
  let archive: string;
  let token: string;
  const running: Running[] = [];
  const writes: Write[] = [];
  let backupStartedAt = 0;
  let backupEndedAt = 0;
  // One port for every start (one runs at a time): tokens name it as their issuer.
  let port: number;
  const start = async (dataDir: string) => {
    const r = launch(dataDir, port);
    running.push(r);
    await waitFor(r, /Picard is ready in/);
    return { r, t: { url: `http://127.0.0.1:${port}` } };
  };
  const stop = async (r: Running) => {
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  };
  const write = async (t: { url: string }, text: string) => {
    const sentAt = performance.now();
    const res = await callTool(t, token, 'submit_memory', { text, permission: 'private' });
    expect(res.status).toBe(200);
    writes.push({ id: res.json.result.id as string, text, sentAt, answeredAt: performance.now() });
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'picard-backup-'));
    source = join(root, 'source');
    restored = join(root, 'restored');
    archive = join(root, 'picard.tar.gz');
    port = await laterPort();
  });
  afterAll(async () => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(running.map((r) => r.exited));
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('backs up a running Picard while it takes writes, secrets included', async () => {
    const { r, t } = await start(source);
    token = (await userToken(t, await registerClient(t), 'nina')).access_token;
    for (let n = 0; n < 20; n++) await write(t, `before the backup ${n} ${randomUUID()}`);

    // Writes go on while the backup runs: each lands on one side of its snapshot or the other.
    let backingUp = true;
    const during = (async () => {
      for (let n = 0; backingUp; n++) await write(t, `during the backup ${n} ${randomUUID()}`);
    })();
    backupStartedAt = performance.now();
    const backup = await runToEnd(BACKUP, ['--data-dir', source, '--output', archive]);
    backupEndedAt = performance.now();
    backingUp = false;
    await during;
    expect(backup.output).toContain('taken by the running Picard');
    expect(backup.code).toBe(0);
    expect(backup.output).toMatch(/contains SECRETS/);
    expect((await stat(archive)).mode & 0o077).toBe(0);

    for (let n = 0; n < 10; n++) await write(t, `after the backup ${n} ${randomUUID()}`);
    await stop(r);
  }, 300_000);

  it('restores into a new directory, where exactly the backed-up memories are, decrypted', async () => {
    const restore = await runToEnd(RESTORE, [archive, '--data-dir', restored]);
    expect(restore.output).toContain('Restored.');
    expect(restore.code).toBe(0);

    const { t } = await start(restored);
    // The token issued before the backup still works: the signing keys came back with auth.
    const found = await memoriesOf(t, token);
    const before = writes.filter((w) => w.answeredAt < backupStartedAt);
    const after = writes.filter((w) => w.sentAt > backupEndedAt);
    expect(before.length).toBeGreaterThanOrEqual(20);
    expect(after.length).toBeGreaterThanOrEqual(10);
    expect(before.filter((w) => found.get(w.id) !== w.text)).toEqual([]);
    expect(after.filter((w) => found.has(w.id))).toEqual([]);
    // Nothing else, and whatever came from the writes during the backup is whole.
    const byId = new Map(writes.map((w) => [w.id, w.text]));
    for (const [id, text] of found) expect(text).toBe(byId.get(id));
  }, 300_000);

  it('refuses to restore onto a running Picard, onto data, or from an archive that is not a whole backup', async () => {
    const restoredPicard = running.at(-1)!;
    const ontoRunning = await runToEnd(RESTORE, [archive, '--data-dir', restored, '--force']);
    expect(ontoRunning.code).toBe(1);
    expect(ontoRunning.output).toContain(
      `Picard is running with data in ${restored} (pid ${restoredPicard.child.pid}): stop it first.`,
    );
    // create-admin opens the auth database's files itself: never beside a running Picard.
    const adminBeside = await runToEnd(CREATE_ADMIN, ADMIN_ARGS, { PICARD_DATA_DIR: restored });
    expect(adminBeside.code).toBe(1);
    expect(adminBeside.output).toContain(
      `Picard is running with data in ${restored} (pid ${restoredPicard.child.pid}): stop it first.`,
    );
    await stop(restoredPicard);
    const contentsBefore = (await readdir(restored)).sort();

    const ontoData = await runToEnd(RESTORE, [archive, '--data-dir', restored]);
    expect(ontoData.code).toBe(1);
    expect(ontoData.output).toContain(`${restored} is not empty`);

    const notAnArchive = join(root, 'notes.txt');
    await writeFile(notAnArchive, 'these are not the files you are looking for\n');
    const fromText = await runToEnd(RESTORE, [notAnArchive, '--data-dir', join(root, 'never')]);
    expect(fromText.code).toBe(1);
    expect(fromText.output).toContain(`${notAnArchive} is not a Picard backup`);

    // One byte of a secret changed inside an otherwise valid archive: its checksum gives it away.
    const tar = gunzipSync(await readFile(archive));
    const key = await readFile(join(source, 'memory-encryption-keys'));
    const at = tar.indexOf(key);
    expect(at).toBeGreaterThan(0);
    tar[at + 5] = tar[at + 5] === 65 ? 66 : 65;
    const damaged = join(root, 'damaged.tar.gz');
    await writeFile(damaged, gzipSync(tar));
    const fromDamaged = await runToEnd(RESTORE, [damaged, '--data-dir', restored, '--force']);
    expect(fromDamaged.code).toBe(1);
    expect(fromDamaged.output).toContain('secrets/memory-encryption-keys does not match its checksum');

    const missing = await runToEnd(RESTORE, [
      join(root, 'nowhere.tar.gz'),
      '--data-dir',
      join(root, 'never'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain(`no archive at ${join(root, 'nowhere.tar.gz')}`);

    // None of the refusals touched anything.
    expect((await readdir(restored)).sort()).toEqual(contentsBefore);
    expect(existsSync(join(root, 'never'))).toBe(false);

    // With Picard stopped, create-admin claims the directory, does its work and lets go of it.
    const admin = await runToEnd(CREATE_ADMIN, ADMIN_ARGS, { PICARD_DATA_DIR: restored });
    expect([admin.code, admin.output]).toEqual([0, expect.stringContaining('Admin "night-ops" is ready')]);
    expect(existsSync(join(restored, 'picard.sock'))).toBe(false);
  }, 300_000);

  it('backs up a stopped Picard itself, and replaces a directory with --force, keeping the old one aside', async () => {
    const offline = join(root, 'offline.tar.gz');
    const backup = await runToEnd(BACKUP, ['--data-dir', source, '--output', offline]);
    expect(backup.output).toContain('Picard is not running: the databases were opened here');
    expect(backup.code).toBe(0);

    const forced = await runToEnd(RESTORE, [offline, '--data-dir', restored, '--force']);
    expect(forced.code).toBe(0);
    const aside = /the previous contents are in (\S+)/.exec(forced.output)?.[1];
    expect(aside).toBeDefined();
    expect(await readdir(aside!)).toEqual(expect.arrayContaining(['auth', 'memory', 'persona']));

    // The stopped source had every write, the later ones too.
    const { r, t } = await start(restored);
    const found = await memoriesOf(t, token);
    expect(writes.filter((w) => found.get(w.id) !== w.text)).toEqual([]);
    await stop(r);
  }, 300_000);
});
