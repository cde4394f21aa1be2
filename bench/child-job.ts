import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs a bench/ script in a process of its own (clients must not share the server's event loop):
 * the job goes in as JSON on stdin, the result comes back as JSON on stdout.
 */
export async function runChildJob<T>(script: string, job: object): Promise<T> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./${script}`, import.meta.url))], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(JSON.stringify(job));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${script} failed (exit ${code})`);
  return JSON.parse(out) as T;
}
