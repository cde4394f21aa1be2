import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  adminPasswordFile,
  encryptionKeysFile,
  loadOrCreateAdminPassword,
  loadOrCreateEncryptionKeys,
  prepareDataDir,
} from '../../src/embedded-secrets.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/**
 * Item 9 (embedded part) of issue #11: the embedded data directory holds every database and the
 * generated secrets (memory encryption keys, admin password); other local users must not read it.
 * What `npm start` runs before anything opens: the directory becomes 0700, generated files 0600,
 * including a directory and a key file left readable by an older version.
 */
describe('security item 9: embedded data directory 0700, generated files 0600', () => {
  let root: string;
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('creates the data directory 0700 and the generated secrets 0600', async () => {
    root = await mkdtemp(join(tmpdir(), 'picard-data-'));
    const dataDir = join(root, 'fresh', 'data');
    await prepareDataDir(dataDir);
    expect(await mode(dataDir)).toBe(0o700);
    expect((await loadOrCreateEncryptionKeys(dataDir)).created).toBe(true);
    expect((await loadOrCreateAdminPassword(dataDir)).created).toBe(true);
    expect(await mode(encryptionKeysFile(dataDir))).toBe(0o600);
    expect(await mode(adminPasswordFile(dataDir))).toBe(0o600);
  });

  it('tightens a directory and a key file that were left readable by others', async () => {
    const dataDir = join(root, 'old');
    await mkdir(dataDir);
    await chmod(dataDir, 0o755);
    await writeFile(encryptionKeysFile(dataDir), `k1:${Buffer.alloc(32, 7).toString('base64')}\n`);
    await chmod(encryptionKeysFile(dataDir), 0o644);
    await prepareDataDir(dataDir);
    const keys = await loadOrCreateEncryptionKeys(dataDir);
    expect(keys.created).toBe(false);
    expect(await mode(dataDir)).toBe(0o700);
    expect(await mode(encryptionKeysFile(dataDir))).toBe(0o600);
  });
});
