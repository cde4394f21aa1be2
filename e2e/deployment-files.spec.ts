import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { loadConfig } from '@picard/service-kit';
import { authConfigSchema } from '@picard/auth-service';
import { embeddingConfigSchema } from '@picard/embedding-service';
import { memoryConfigSchema } from '@picard/memory-service';
import { personaConfigSchema } from '@picard/persona-service';
import { gatewayConfigSchema } from '@picard/gateway';
import { parseConfig as parseClientConfig } from '../client-app/server/src/config.js';
import { key32, operatorSecrets, renderCompose, type Env } from './support/compose.js';

/**
 * Issue #12: docker-compose.yml and render.yaml cannot drift from the code. Each service's own
 * configuration schema (what its main.js loads at start) is the source of truth: the environment
 * each deployment file gives a service must load without error, the command must be a file the
 * build makes, and every address one service is given must be where the other one listens.
 */
const MAINS: Record<string, (env: Env) => unknown> = {
  'auth-service/dist/main.js': (env) => loadConfig(authConfigSchema, env),
  'memory-service/dist/main.js': (env) => loadConfig(memoryConfigSchema, env),
  'embedding-service/dist/main.js': (env) => loadConfig(embeddingConfigSchema, env),
  'persona-service/dist/main.js': (env) => loadConfig(personaConfigSchema, env),
  'gateway/dist/main.js': (env) => loadConfig(gatewayConfigSchema, env),
  'client-app/server/dist/server/src/main.js': (env) => parseClientConfig(env),
};
/** The gRPC services: the variable naming their port, and the one other services reach them by. */
const GRPC: Record<string, { port: string; addr: string }> = {
  'auth-service/dist/main.js': { port: 'AUTH_GRPC_PORT', addr: 'AUTH_GRPC_ADDR' },
  'memory-service/dist/main.js': { port: 'MEMORY_GRPC_PORT', addr: 'MEMORY_GRPC_ADDR' },
  'embedding-service/dist/main.js': { port: 'EMBEDDING_GRPC_PORT', addr: 'EMBEDDING_GRPC_ADDR' },
  'persona-service/dist/main.js': { port: 'PERSONA_GRPC_PORT', addr: 'PERSONA_GRPC_ADDR' },
};

const OPERATOR = operatorSecrets();

interface Deployed {
  name: string;
  main: string;
  env: Env;
  /** How other services reach it (host name on the deployment's network). */
  host: string;
}

/** What the service would print and exit with at start, if anything. */
function configProblem(s: Deployed): string | undefined {
  try {
    MAINS[s.main]!(s.env);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Every service of a file, checked the same way whichever file it came from. */
function checkServices(services: Deployed[]) {
  const byMain = new Map(services.map((s) => [s.main, s]));
  expect([...byMain.keys()].sort()).toEqual(Object.keys(MAINS).sort());
  for (const s of services) {
    // The command runs a file the build makes from this source file.
    expect(existsSync(s.main)).toBe(true);
    expect({ service: s.name, problem: configProblem(s) }).toEqual({ service: s.name, problem: undefined });
  }
  // Every gRPC address points at the service's host and the port it listens on, on all interfaces.
  for (const [main, { port, addr }] of Object.entries(GRPC)) {
    const target = byMain.get(main)!;
    expect(target.env[port.replace('PORT', 'HOST')]).toBe('0.0.0.0');
    for (const s of services)
      if (s.env[addr] !== undefined)
        expect(`${s.name} ${addr}=${s.env[addr]}`).toBe(
          `${s.name} ${addr}=${target.host}:${target.env[port]}`,
        );
  }
  const auth = byMain.get('auth-service/dist/main.js')!;
  const gateway = byMain.get('gateway/dist/main.js')!;
  // The tokens' issuer is the same for the service that signs them and the one that checks them.
  expect(auth.env.PICARD_PUBLIC_URL).toBe(gateway.env.PICARD_PUBLIC_URL);
  // Every service that verifies internal calls shares one key.
  const internal = services.filter((s) => s.env.INTERNAL_TOKEN_KEY !== undefined);
  expect(internal.length).toBe(5);
  expect(new Set(internal.map((s) => s.env.INTERNAL_TOKEN_KEY)).size).toBe(1);
}

describe('deployment files agree with the services’ configuration', () => {
  it('docker-compose.yml, rendered by docker-compose itself', () => {
    const rendered = renderCompose(OPERATOR);
    const services: Deployed[] = Object.entries(rendered)
      .filter(([, s]) => s.command?.[0] === 'node')
      .map(([name, s]) => ({ name, main: s.command![1]!, env: s.environment ?? {}, host: name }));
    checkServices(services);
    const env = (main: string) => services.find((s) => s.main === main)!.env;
    // The web client's server calls the gateway on the port it listens on.
    expect(env('client-app/server/dist/server/src/main.js').PICARD_URL).toBe(
      `http://gateway:${env('gateway/dist/main.js').GATEWAY_PORT}`,
    );
    // Without AUTH_KEY_ENCRYPTION_KEY auth-service refuses to start: the file passes it through.
    expect(() =>
      loadConfig(authConfigSchema, { ...env('auth-service/dist/main.js'), AUTH_KEY_ENCRYPTION_KEY: '' }),
    ).toThrow(/AUTH_KEY_ENCRYPTION_KEY/);
  });

  it('render.yaml, with Render’s references resolved as Render resolves them', () => {
    interface EnvVar {
      key?: string;
      value?: string;
      generateValue?: boolean;
      sync?: boolean;
      fromGroup?: string;
      fromDatabase?: { name: string; property: string };
      fromService?: { name: string; property?: string; envVarKey?: string };
    }
    interface Service {
      name: string;
      startCommand?: string;
      envVars?: EnvVar[];
    }
    const blueprint = parse(readFileSync('render.yaml', 'utf8')) as {
      services: Service[];
      envVarGroups: { name: string; envVars: EnvVar[] }[];
    };
    // One value per generated variable of a group, as Render generates it once for the group.
    const groups = new Map(
      blueprint.envVarGroups.map((g) => [
        g.name,
        Object.fromEntries(g.envVars.map((v) => [v.key!, v.generateValue ? key32() : v.value!])),
      ]),
    );
    const byName = new Map(blueprint.services.map((s) => [s.name, s]));
    const resolved = new Map<string, Env>();
    const resolve = (name: string): Env => {
      if (resolved.has(name)) return resolved.get(name)!;
      const env: Env = {};
      resolved.set(name, env);
      for (const v of byName.get(name)?.envVars ?? []) {
        if (v.fromGroup) Object.assign(env, groups.get(v.fromGroup));
        else if (v.value !== undefined) env[v.key!] = String(v.value);
        else if (v.generateValue) env[v.key!] = key32();
        else if (v.sync === false) env[v.key!] = OPERATOR[v.key!] ?? '';
        else if (v.fromDatabase)
          env[v.key!] = `postgres://picard:secret@dpg-${v.fromDatabase.name}-a:5432/picard`;
        else if (v.fromService?.property === 'hostport')
          env[v.key!] = `${v.fromService.name}:${resolve(v.fromService.name).PORT}`;
        else if (v.fromService?.envVarKey)
          env[v.key!] = resolve(v.fromService.name)[v.fromService.envVarKey]!;
        else throw new Error(`${name}: ${v.key} has a kind of value this test does not know`);
      }
      return env;
    };
    const services: Deployed[] = blueprint.services
      .filter((s) => s.startCommand?.startsWith('node '))
      .map((s) => ({ name: s.name, main: s.startCommand!.slice(5), env: resolve(s.name), host: s.name }));
    checkServices(services);
    for (const s of services) {
      // Render sends traffic (and resolves hostport) to PORT: it must be the port the service listens on.
      const port = GRPC[s.main]?.port ?? (s.main.startsWith('gateway/') ? 'GATEWAY_PORT' : 'CLIENT_PORT');
      expect(`${s.name} PORT=${s.env.PORT}`).toBe(`${s.name} PORT=${s.env[port]}`);
    }
    // The admin password the web client registers itself with is the one auth-service was given.
    expect(resolve('picard-web').PICARD_ADMIN_PASSWORD).toBe(resolve('picard-auth').PICARD_ADMIN_PASSWORD);
  });
});
