import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { operatorSecrets, renderCompose, type Env } from './compose.js';
import { laterPort } from './test-stack.js';

/**
 * The cluster as docker-compose.yml describes it, each service its own OS process running its
 * built `dist/main.js` with exactly the environment compose gives it (rendered by docker-compose
 * itself), except that the compose network's host names become 127.0.0.1 with distinct ports, and
 * PostgreSQL and NATS are a fresh database on the test server and a NATS server of its own.
 */
export interface ClusterProcess {
  /** The compose service and, with several instances, its number: "gateway#2". */
  name: string;
  service: string;
  env: Env;
  command: string[];
  child: ChildProcess;
  output: string[];
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

export interface Cluster {
  processes: ClusterProcess[];
  /** Each gateway's URL, in instance order. */
  gateways: string[];
  webClient: string;
  publicUrl: string;
  /** `http://127.0.0.1:<METRICS_PORT>` of a process that serves /metrics and /health there. */
  metricsUrl(name: string): string;
  /** The cluster's own database (every service's schema). */
  databaseUrl: string;
  admin: { username: string; password: string };
  /** Processes that exited (none should while the test runs), except those stopped on purpose. */
  exited(): ClusterProcess[];
  /** Sends `signal` to a process (a fault) and waits for it to exit. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed process again, same command and environment. */
  restart(name: string): Promise<void>;
  /** The cluster's NATS server: stopped (its JetStream store kept) and started again on its port. */
  nats: { url: string; stop(): Promise<void>; start(): Promise<void> };
  /** The last lines a process printed, for failure messages. */
  tail(name: string, lines?: number): string;
  stop(): Promise<void>;
}

/** Port variables per compose service, and how other services name its address. */
const OWN_PORT: Record<string, string> = {
  'auth-service': 'AUTH_GRPC_PORT',
  'memory-service': 'MEMORY_GRPC_PORT',
  'embedding-service': 'EMBEDDING_GRPC_PORT',
  'persona-service': 'PERSONA_GRPC_PORT',
  gateway: 'GATEWAY_PORT',
  'client-app': 'CLIENT_PORT',
};

export async function startComposeCluster(opts: {
  /** PICARD_TEST_DATABASE_URL: a server where this harness may create and drop a database. */
  databaseUrl: string;
  /**
   * Instances per service (default one). A service's callers get every instance's address, as a
   * compose or platform DNS name with one record per replica gives them (gRPC spreads calls over
   * them); the web client talks to gateway #1.
   */
  instances?: Record<string, number>;
  admin: { username: string; password: string };
  /** More compose variables (LLM_BASE_URL, …). */
  variables?: Env;
}): Promise<Cluster> {
  const { default: pg } = await import('pg');
  const dbName = `picard_cluster_${randomBytes(4).toString('hex')}`;
  const server = new pg.Client({ connectionString: opts.databaseUrl });
  await server.connect();
  await server.query(`CREATE DATABASE ${dbName}`);
  await server.end();
  const dbUrl = new URL(opts.databaseUrl);
  dbUrl.pathname = `/${dbName}`;

  const natsDir = mkdtempSync(join(tmpdir(), 'picard-cluster-nats-'));
  const natsPort = await laterPort();
  const startNats = async () => {
    const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', natsDir], {
      stdio: 'ignore',
    });
    await waitForPort(natsPort);
    return server;
  };
  let nats: ChildProcess | undefined = await startNats();

  const rendered = renderCompose({
    ...operatorSecrets(),
    PICARD_ADMIN_USERNAME: opts.admin.username,
    PICARD_ADMIN_PASSWORD: opts.admin.password,
    ...opts.variables,
  });
  const nodeServices = Object.entries(rendered).filter(([, s]) => s.command?.[0] === 'node');
  // Every instance's own port first, so addresses can be rewritten to them.
  const instances = new Map<string, { port: number }[]>();
  for (const [name] of nodeServices) {
    const n = opts.instances?.[name] ?? 1;
    instances.set(
      name,
      await Promise.all(Array.from({ length: n }, async () => ({ port: await laterPort() }))),
    );
  }
  const portOf = (service: string, i: number) => {
    const list = instances.get(service)!;
    return list[Math.min(i, list.length - 1)]!.port;
  };
  const gatewayPorts = instances.get('gateway')!.map((g) => g.port);
  const publicUrl = `http://localhost:${gatewayPorts[0]}`;
  const webPort = portOf('client-app', 0);

  const rewrite = (value: string, instance: number): string => {
    if (/^postgres(ql)?:\/\//.test(value)) return dbUrl.toString();
    if (/^nats:\/\//.test(value)) return `nats://127.0.0.1:${natsPort}`;
    return value.replace(
      /(?:(https?):\/\/)?([a-z][a-z-]*):(\d+)/g,
      (whole, scheme: string | undefined, host: string) => {
        if (host === 'localhost' && scheme) {
          // The public URLs: one issuer and audience for every gateway; the web client's own.
          return /:8000$/.test(whole) ? `http://127.0.0.1:${webPort}` : publicUrl;
        }
        if (!instances.has(host)) return whole;
        if (scheme) return `${scheme}://127.0.0.1:${portOf(host, instance)}`;
        // A gRPC address: every instance, in grpc-js's list syntax.
        return `ipv4:${instances
          .get(host)!
          .map((i) => `127.0.0.1:${i.port}`)
          .join(',')}`;
      },
    );
  };

  const processes: ClusterProcess[] = [];
  // Gateway first: start order must not matter, and this is the order most likely to go wrong.
  const order = nodeServices.sort(([a], [b]) => Number(b === 'gateway') - Number(a === 'gateway'));
  for (const [service, s] of order) {
    const count = instances.get(service)!.length;
    for (let i = 0; i < count; i++) {
      const env: Env = {};
      for (const [k, v] of Object.entries(s.environment ?? {})) env[k] = rewrite(String(v), i);
      env[OWN_PORT[service]!] = String(portOf(service, i));
      // Each container has its own METRICS_PORT; here they share one host.
      if (env.METRICS_PORT) env.METRICS_PORT = String(await laterPort());
      const name = count > 1 ? `${service}#${i + 1}` : service;
      const p = { name, service, env, command: s.command!, output: [] } as unknown as ClusterProcess;
      launch(p);
      processes.push(p);
    }
  }
  const named = (name: string) => {
    const p = processes.find((q) => q.name === name);
    if (!p) throw new Error(`no process ${name} in this cluster`);
    return p;
  };
  const killed = new Set<ClusterProcess>();

  const cluster: Cluster = {
    processes,
    gateways: gatewayPorts.map((port) => `http://127.0.0.1:${port}`),
    webClient: `http://127.0.0.1:${webPort}`,
    publicUrl,
    databaseUrl: dbUrl.toString(),
    admin: opts.admin,
    exited: () => processes.filter((p) => p.exit && !killed.has(p)),
    metricsUrl(name) {
      const port = named(name).env.METRICS_PORT;
      if (!port) throw new Error(`${name} has no METRICS_PORT in docker-compose.yml`);
      return `http://127.0.0.1:${port}`;
    },
    async kill(name, signal = 'SIGKILL') {
      const p = named(name);
      killed.add(p);
      const gone = new Promise((r) => p.child.once('exit', r));
      p.child.kill(signal);
      await gone;
    },
    async restart(name) {
      const p = named(name);
      if (!p.exit) throw new Error(`${name} is still running`);
      p.exit = undefined;
      launch(p);
      killed.delete(p);
    },
    nats: {
      url: `nats://127.0.0.1:${natsPort}`,
      async stop() {
        if (nats) await stopProcess(nats);
        nats = undefined;
      },
      async start() {
        nats ??= await startNats();
      },
    },
    tail: (name, lines = 30) =>
      (processes.find((p) => p.name === name)?.output ?? []).slice(-lines).join('\n'),
    async stop() {
      await Promise.all(processes.map((p) => stopProcess(p.child)));
      if (nats) await stopProcess(nats);
      rmSync(natsDir, { recursive: true, force: true });
      const admin = new pg.Client({ connectionString: opts.databaseUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    },
  };
  return cluster;
}

/** Starts (or starts again) a process with its command and environment, keeping its last lines. */
function launch(p: ClusterProcess): void {
  const child = spawn(p.command[0]!, p.command.slice(1), {
    env: { PATH: process.env.PATH!, ...p.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    p.output.push(...chunk.toString().split('\n').filter(Boolean));
    if (p.output.length > 400) p.output.splice(0, p.output.length - 400);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('exit', (code, signal) => (p.exit = { code, signal }));
  p.child = child;
}

/** Until every gateway reports all services SERVING and the web client is up; fails fast if a process exits. */
export async function waitUntilServing(cluster: Cluster, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  const ok = async (url: string) => {
    try {
      return (await fetch(url)).status === 200;
    } catch {
      return false;
    }
  };
  for (;;) {
    const gone = cluster.exited();
    if (gone.length)
      throw new Error(
        `${gone.map((p) => `${p.name} exited (${p.exit!.code ?? p.exit!.signal})`).join(', ')}:\n${cluster.tail(gone[0]!.name)}`,
      );
    const health = await Promise.all([
      ...cluster.gateways.map((g) => ok(`${g}/health`)),
      ok(`${cluster.webClient}/bff/health`),
    ]);
    if (health.every(Boolean)) return;
    if (Date.now() > until)
      throw new Error(`the cluster was not serving after ${timeoutMs} ms:\n${cluster.tail('gateway#1')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`nothing listens on ${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** SIGTERM (the services stop cleanly), SIGKILL after 20 s. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
