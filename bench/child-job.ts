import { fork, spawn } from 'node:child_process';
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

/** One latency phase run by a client process: `queries` measured after `warmup` (texts it does not reuse). */
export interface ClientPhase {
  name: string;
  concurrency: number;
  warmup: string[];
  queries: string[];
}

/** A phase of `count` texts from `text`, warmed up on 20 texts past them. */
export function clientPhase<P extends object>(
  name: string,
  concurrency: number,
  text: (i: number) => string,
  count: number,
  extra?: P,
): ClientPhase & P {
  return {
    ...(extra as P),
    name,
    concurrency,
    warmup: Array.from({ length: 20 }, (_, i) => text(count + i)),
    queries: Array.from({ length: count }, (_, i) => text(i)),
  };
}

/**
 * Runs the phases in `script`'s process (the job carries them beside `job`) and hands each phase's
 * samples (ms) back by name, in phase order.
 */
export async function runClientPhases(
  script: string,
  job: object,
  phases: readonly ClientPhase[],
  each: (name: string, samples: number[]) => void,
): Promise<void> {
  const samples = await runChildJob<Record<string, number[]>>(script, { ...job, phases });
  for (const { name } of phases) each(name, samples[name]!);
}

/** A client process that runs one call per `run` (bench/rest-client-ipc.mjs) and says how long it took. */
export interface IpcClient {
  /** The call's duration in ms, as the client process timed it. */
  run(text: string): Promise<number>;
  stop(): void;
}

export async function startIpcClient(script: string, job: object): Promise<IpcClient> {
  const child = fork(fileURLToPath(new URL(`./${script}`, import.meta.url)), [JSON.stringify(job)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  type Reply = { ready?: true; ms?: number; error?: string };
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${script} exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (reply: Reply) => {
        child.off('exit', onExit);
        resolve(reply);
      });
    });
  await next(); // { ready }
  return {
    async run(text) {
      const reply = next();
      child.send({ text });
      const { ms, error } = await reply;
      if (error !== undefined || ms === undefined) throw new Error(`${script}: ${error}`);
      return ms;
    },
    stop: () => child.kill(),
  };
}
