/**
 * `npm run restore -- ARCHIVE [--data-dir DIR] [--force]`: puts a backup made by `npm run backup`
 * back as an embedded data directory. Checks the whole archive first, refuses while Picard (or a
 * backup) works on the directory, and replaces a directory that holds anything only with --force
 * (its old contents are moved aside, not deleted).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NotABackupError, readBackupArchive } from './backup-archive.js';
import { runCommand, sizeOf } from './command-line.js';
import { dataDirHolder, DataDirInUseError } from '@picard/service-kit';
import { EMBEDDED_DATABASES, SECRET_FILES } from './embedded-secrets.js';
import { contentsOf, restoreDataDir } from './restore-data-dir.js';

const USAGE = 'usage: npm run restore -- ARCHIVE [--data-dir DIR] [--force]';

runCommand('restore', async () => {
  const { values, positionals } = parseArgs({
    options: { 'data-dir': { type: 'string' }, force: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new Error(`name one backup archive (${USAGE})`);
  const archive = resolve(positionals[0]!);
  const dataDir = resolve(values['data-dir'] ?? (process.env.PICARD_DATA_DIR || './data'));

  process.stdout.write(`Checking ${archive}\n`);
  const { manifest, contents } = await readBackupArchive(archive);
  const expected = (kind: string, names: Iterable<string>, known: readonly string[]) => {
    for (const name of names)
      if (!known.includes(name)) throw new NotABackupError(archive, `it holds an unknown ${kind} "${name}"`);
  };
  expected('database', contents.databases.keys(), EMBEDDED_DATABASES);
  expected('secret', contents.secrets.keys(), SECRET_FILES);
  for (const name of EMBEDDED_DATABASES)
    if (!contents.databases.has(name)) throw new NotABackupError(archive, `it lacks the ${name} database`);
  const total = [...contents.databases.values()].reduce((n, tar) => n + tar.byteLength, 0);
  process.stdout.write(
    `  taken ${manifest.createdAt} from ${manifest.source.dataDir}` +
      `${manifest.source.online ? ' (while Picard ran)' : ''}: ${contents.databases.size} databases` +
      ` (${sizeOf(total)}), secrets: ${[...contents.secrets.keys()].join(', ') || 'none'}\n`,
  );

  const holder = await dataDirHolder(dataDir);
  if (holder) throw new DataDirInUseError(dataDir, holder);
  if ((await contentsOf(dataDir)).length > 0 && !values.force)
    throw new Error(
      `${dataDir} is not empty: restore into a new directory (--data-dir), or pass --force to ` +
        'replace it (its current contents are moved aside, not deleted)',
    );

  process.stdout.write(`Restoring into ${dataDir}\n`);
  const outcome = await restoreDataDir(dataDir, contents, (name) =>
    process.stdout.write(`  ${name} database restored\n`),
  );
  if (outcome.previous) process.stdout.write(`  the previous contents are in ${outcome.previous}\n`);
  if (!contents.secrets.has('memory-encryption-keys'))
    process.stdout.write(
      '  note: the backup holds no memory-encryption-keys: start Picard with the\n' +
        '        MEMORY_ENCRYPTION_KEYS it ran with, or the memories cannot be read.\n',
    );
  process.stdout.write(
    `\nRestored. Start Picard on it with: PICARD_DATA_DIR=${dataDir} npm start\n` +
      "(the web client's own data is not in a backup: it registers with Picard again and its users sign in anew)\n",
  );
});
