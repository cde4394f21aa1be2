import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes a file whole or not at all, and on the disk before it returns: a temporary file, flushed,
 * renamed over the target, then the directory flushed. A kill or a power loss midway leaves the
 * old file (or none), never a truncated one: an empty key file would make a data directory
 * unreadable. `data` may be a stream of chunks (an archive written as it is made).
 */
export async function writeFileDurably(
  path: string,
  data: Uint8Array | string | AsyncIterable<Uint8Array>,
  mode = 0o600,
): Promise<void> {
  const partial = `${path}.${process.pid}.partial`;
  const file = await open(partial, 'w', mode);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await file.writeFile(data);
    else for await (const chunk of data) await file.write(chunk);
    await file.chmod(mode);
    await file.sync();
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
  await file.close();
  await rename(partial, path);
  await syncDirectory(dirname(path));
}

/** Flushes a directory's entries (a file created or renamed in it) to the disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
