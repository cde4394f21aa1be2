/**
 * `npm run backup [-- --data-dir DIR] [--output FILE]`: one archive of the embedded data directory
 * (its databases and the generated secrets), taken through the running Picard when there is one,
 * else by opening the databases here. Restored by `npm run restore`.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBackupArchive } from './backup-archive.js';
import { takeSnapshots } from './backup-snapshots.js';
import { runCommand, sizeOf } from './command-line.js';
import { SECRET_FILES } from './embedded-secrets.js';

const USAGE = 'usage: npm run backup [-- --data-dir DIR] [--output FILE]';

runCommand('backup', async () => {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, output: { type: 'string' } },
    strict: true,
  });
  const dataDir = resolve(values['data-dir'] ?? (process.env.PICARD_DATA_DIR || './data'));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const output = resolve(values.output ?? `picard-backup-${stamp}.tar.gz`);
  if (!existsSync(dataDir)) throw new Error(`no data directory at ${dataDir} (${USAGE})`);
  if (existsSync(output)) throw new Error(`${output} exists already: name another with --output`);

  process.stdout.write(`Backing up ${dataDir}\n`);
  const snapshots = await takeSnapshots(dataDir, (name, bytes) =>
    process.stdout.write(`  ${`${name} database`.padEnd(18)}${sizeOf(bytes)}\n`),
  );
  process.stdout.write(
    snapshots.online
      ? '  (snapshots taken by the running Picard: every write it acknowledged before is included)\n'
      : '  (Picard is not running: the databases were opened here)\n',
  );
  const secrets = new Map<string, Uint8Array>();
  for (const name of SECRET_FILES) {
    const data = await readFile(join(dataDir, name)).catch(() => undefined);
    if (data) secrets.set(name, data);
  }
  process.stdout.write(`  ${'secrets'.padEnd(18)}${[...secrets.keys()].join(', ') || 'none'}\n`);
  if (!secrets.has('memory-encryption-keys'))
    process.stdout.write(
      '  note: no memory-encryption-keys file (the keys come from MEMORY_ENCRYPTION_KEYS):\n' +
        '        keep that value with this backup; without it the memories cannot be read.\n',
    );

  await writeBackupArchive(
    output,
    { databases: snapshots.databases, secrets },
    { dataDir, online: snapshots.online },
  );
  const { size } = await stat(output);
  process.stdout.write(
    `\nBackup written to ${output} (${sizeOf(size)}).\n` +
      'It contains SECRETS: the memory encryption keys, the signing-key encryption key and the admin\n' +
      'password. Anyone holding it can read every memory: keep it as safe as the data directory.\n' +
      `Restore with: npm run restore -- ${output} --data-dir DIR\n`,
  );
});
