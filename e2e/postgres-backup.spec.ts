import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { memoriesOf } from './support/launcher.js';
import { callTool, registerClient, startTestStack, userToken, type TestStack } from './support/test-stack.js';

/**
 * Issue #12, cluster mode: the README's procedure. pg_dump of the services' schemas (one dump, one
 * snapshot), pg_restore into a fresh database, and the same keys: a stack on the restored data
 * reads back, decrypted, exactly the memories written before the dump.
 */
const url = process.env.PICARD_TEST_DATABASE_URL;
const clusterOnly = url ? describe : describe.skip;
const run = promisify(execFile);
/** The client tools of the server's major version (15 here), else whatever is on PATH. */
const tool = (name: string) => {
  const versioned = `/usr/lib/postgresql/15/bin/${name}`;
  return existsSync(versioned) ? versioned : name;
};

async function sql(databaseUrl: string, text: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

clusterOnly('backup and restore with pg_dump (cluster mode)', () => {
  const restoredDb = `picard_restore_${randomBytes(4).toString('hex')}`;
  const restoredUrl = (() => {
    const u = new URL(url ?? 'postgres://unused/');
    u.pathname = `/${restoredDb}`;
    return u.toString();
  })();
  // The keys a cluster operator keeps beside the dump: without them it is unreadable.
  const keys = {
    MEMORY_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  const stacks: TestStack[] = [];
  let work: string | undefined;
  afterAll(async () => {
    for (const s of stacks) await s.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (url) await sql(url, `DROP DATABASE IF EXISTS ${restoredDb} WITH (FORCE)`);
  });

  it('restores the dumped schemas into a new database, where a stack with the same keys reads them back', async () => {
    const source = await startTestStack(keys);
    stacks.push(source);
    const token = (await userToken(source, await registerClient(source), 'petra')).access_token;
    const write = async (text: string) => {
      const res = await callTool(source, token, 'submit_memory', { text, permission: 'private' });
      expect(res.status).toBe(200);
      return { id: res.json.result.id as string, text };
    };
    const before = [];
    for (let n = 0; n < 15; n++) before.push(await write(`kept in the dump ${n} ${randomUUID()}`));

    work = await mkdtemp(join(tmpdir(), 'picard-pg-backup-'));
    const dump = join(work, 'picard.dump');
    const { auth, memory, persona } = source.schemas;
    await run(tool('pg_dump'), [
      '--format=custom',
      '--no-owner',
      '--no-privileges',
      ...[auth, memory, persona].map((schema) => `--schema=${schema}`),
      `--file=${dump}`,
      url!,
    ]);
    const after = await write(`written after the dump ${randomUUID()}`);

    await sql(url!, `CREATE DATABASE ${restoredDb}`);
    // pg_dump --schema leaves extensions out: pgvector comes first, where the services expect it.
    await sql(restoredUrl, 'CREATE EXTENSION vector WITH SCHEMA public');
    await run(tool('pg_restore'), [
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      `--dbname=${restoredUrl}`,
      dump,
    ]);

    const restored = await startTestStack(keys, { existing: { url: restoredUrl, schemas: source.schemas } });
    stacks.push(restored);
    // The token issued before the dump still works: the signing keys came back with auth.
    const found = await memoriesOf(restored, token);
    expect(before.filter((m) => found.get(m.id) !== m.text)).toEqual([]);
    expect(found.has(after.id)).toBe(false);
    expect(found.size).toBe(before.length);
  }, 300_000);
});
