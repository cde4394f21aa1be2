import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { clientAppDir } from './config.js';

/**
 * A new embedded database is unpacked from a template, a freshly initialized data directory made
 * by client-app's build: initdb in WebAssembly costs ~3 s of CPU, which would be most of the web
 * client's first start (beside Picard's own first start, on the same cores). One per PGlite
 * version, beside the package (client-app/.pglite-template/, not in git).
 */
export async function templateFile(): Promise<string> {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const pkg = JSON.parse(await readFile(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return path.join(clientAppDir, '.pglite-template', `pglite-${pkg.version}.tar.gz`);
}

/**
 * Opens the PGlite database in `dir`, durable as Picard's own (fsync on, a cut-short creation
 * redone); a directory without one gets the template's copy, or (no template) a new one from
 * initdb, saved as the template for the next.
 */
export async function openPgliteFromTemplate(dir: string, startParams: string[]): Promise<PGlite> {
  const { openDurable } = await import('@picard/service-kit/pglite-durable');
  const file = await templateFile();
  const { db, initialized } = await openDurable(
    dir,
    {},
    { template: () => readFile(file).catch(() => undefined), startParams },
  );
  // Best effort: without a template the next database is only slower to create.
  if (initialized) await saveTemplate(db).catch(() => undefined);
  return db;
}

/** Writes a database nothing has written to since initdb as the template, whole or not at all. */
async function saveTemplate(db: PGlite): Promise<void> {
  const file = await templateFile();
  const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, dump);
  await rename(partial, file);
}

/** Makes the template if there is none (client-app's build runs it: make-pglite-template.ts). */
export async function makeTemplate(): Promise<void> {
  if (existsSync(await templateFile())) return;
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  await saveTemplate(db);
  await db.close();
}
