import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A secret from configuration, or (embedded mode only) one generated once into the data folder,
 * readable by its owner only, and reused at every start.
 */
export async function secretOrGenerated(opts: {
  value: string | undefined;
  dataDir: string;
  file: string;
  generate: () => string;
}): Promise<string> {
  if (opts.value) return opts.value;
  const file = path.join(opts.dataDir, opts.file);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(opts.dataDir, { recursive: true });
  const value = opts.generate();
  await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' }).catch(
    async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    },
  );
  await chmod(file, 0o600);
  return (await readFile(file, 'utf8')).trim();
}

export const newKey = () => randomBytes(32).toString('base64');
export const newSessionSecret = () => randomBytes(48).toString('base64url');
