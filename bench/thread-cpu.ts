import fs from 'node:fs';

/**
 * CPU time (seconds) per thread of this process and per other process of interest, read from
 * /proc (Linux). Node names none of its threads (all are "node"), so threads are told apart by when
 * they appeared: those the process had before the services started are V8's and libuv's helpers;
 * those started with the services are theirs (the offline model's workers).
 */
export type CpuSnapshot = Map<string, number>;

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux this runs on

function cpuOf(statPath: string): { comm: string; seconds: number } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(statPath, 'utf8');
  } catch {
    return undefined; // the thread or process ended meanwhile
  }
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { comm, seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
}

/** This process's thread ids now: taken before the services start, they name the helpers. */
export function threadIds(): Set<string> {
  return new Set(fs.existsSync('/proc/self/task') ? fs.readdirSync('/proc/self/task') : []);
}

/**
 * This process's threads (`main`, `helper <tid>` for those in `helpers`, `worker <tid>`), its ended
 * child processes together (`clients`: the benchmark's client processes), PostgreSQL's processes
 * together (`postgres`), and `nats`.
 */
export function snapshot(helpers: Set<string>): CpuSnapshot {
  const cpu: CpuSnapshot = new Map();
  const add = (key: string, seconds: number) => cpu.set(key, (cpu.get(key) ?? 0) + seconds);
  if (!fs.existsSync('/proc/self/task')) return cpu;
  const self = fs.readFileSync('/proc/self/stat', 'utf8');
  const own = self.slice(self.lastIndexOf(')') + 2).split(' ');
  add('clients', (Number(own[13]) + Number(own[14])) / CLOCK_TICKS); // cutime + cstime
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const t = cpuOf(`/proc/self/task/${tid}/stat`);
    const name = tid === String(process.pid) ? 'main' : helpers.has(tid) ? `helper ${tid}` : `worker ${tid}`;
    if (t) add(name, t.seconds);
  }
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || pid === String(process.pid)) continue;
    const p = cpuOf(`/proc/${pid}/stat`);
    if (p?.comm.startsWith('postgres')) add('postgres', p.seconds);
    else if (p?.comm === 'nats-server') add('nats', p.seconds);
  }
  return cpu;
}

/**
 * Milliseconds of CPU per unit of work between two snapshots, busiest first: the service workers
 * each, the helpers together, every other entry as it is (under 0.01 ms left out).
 */
export function perUnit(before: CpuSnapshot, after: CpuSnapshot, units: number): [string, number][] {
  const ms = new Map<string, number>();
  for (const [key, seconds] of after) {
    const name = key.startsWith('helper ') ? 'V8/libuv helpers' : key;
    ms.set(name, (ms.get(name) ?? 0) + (1000 * (seconds - (before.get(key) ?? 0))) / units);
  }
  return [...ms]
    .filter(([, v]) => v >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, Math.round(v * 100) / 100]);
}

/** The sum of perUnit's rows. */
export const totalMs = (rows: [string, number][]) => rows.reduce((sum, [, ms]) => sum + ms, 0);
