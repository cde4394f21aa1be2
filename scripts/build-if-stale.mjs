// @ts-check
/**
 * Builds every part whose sources changed since its last build, in dependency order, so suites that
 * run compiled code (the launcher test runs `node dist/embedded.js`, the browser suites serve the
 * built web client, the deployment-files test loads each service's dist/main.js) test what the
 * sources say rather than an old build. Jest's globalSetup; also `node scripts/build-if-stale.mjs`.
 *
 * After `npm ci` (whose prepare step builds everything) nothing is stale and this costs a few
 * milliseconds. PICARD_TEST_SKIP_BUILD=1 skips it (a quick run of unit suites during an edit).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * What each part is built from and into, in build order. Specs are inputs of no build; a test
 * edit never triggers one.
 * @type {{ name: string; workspace?: string; script?: string; inputs: string[]; outputs: string[] }[]}
 */
export const PARTS = [
  { name: 'proto', workspace: 'proto', inputs: ['proto/src'], outputs: ['proto/dist'] },
  {
    name: 'service-kit',
    workspace: 'service-kit',
    inputs: ['service-kit/src'],
    outputs: ['service-kit/dist'],
  },
  {
    name: 'embedding-service',
    workspace: 'embedding-service',
    // Its build also compiles the native addon (native/build.mjs, after tsc): its sources count,
    // not native/build/, which that build writes.
    inputs: [
      'embedding-service/src',
      ...['blas.c', 'packed-product.c', 'packed-product.h', 'binding.gyp', 'build.mjs'].map(
        (f) => `embedding-service/native/${f}`,
      ),
    ],
    outputs: ['embedding-service/dist'],
  },
  ...['auth-service', 'memory-service', 'persona-service', 'gateway'].map((w) => ({
    name: w,
    workspace: w,
    inputs: [`${w}/src`],
    outputs: [`${w}/dist`],
  })),
  {
    name: 'client-app server',
    workspace: 'client-app',
    script: 'build:server',
    inputs: ['client-app/server/src', 'client-app/contract'],
    outputs: ['client-app/server/dist'],
  },
  {
    name: 'client-app web',
    workspace: 'client-app',
    script: 'build:web',
    inputs: ['client-app/web/src', 'client-app/web/public'],
    outputs: ['client-app/web/dist'],
  },
  { name: 'launcher', inputs: ['src'], outputs: ['dist'] },
];

const isSpec = (/** @type {string} */ f) => /\.spec\.ts$/.test(f);

/** The newest modification time under `path` (files only; specs skipped); 0 when it does not exist. */
function newest(/** @type {string} */ path, skipSpecs = false) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return skipSpecs && isSpec(path) ? 0 : stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === '.angular') continue;
    latest = Math.max(latest, newest(join(path, entry), skipSpecs));
  }
  return latest;
}

/** The parts whose newest input is newer than their newest output (or that have no output). */
export function staleParts(root = ROOT) {
  return PARTS.filter((p) => {
    const built = Math.max(...p.outputs.map((o) => newest(join(root, o))));
    const source = Math.max(...p.inputs.map((i) => newest(join(root, i), true)));
    return built === 0 || source > built;
  });
}

export default function buildIfStale() {
  if (process.env.PICARD_TEST_SKIP_BUILD === '1') return;
  const stale = staleParts();
  if (stale.length === 0) return;
  const started = Date.now();
  process.stdout.write(
    `\nbuilding what changed since the last build: ${stale.map((p) => p.name).join(', ')}\n`,
  );
  for (const part of stale) {
    const args = part.workspace
      ? ['run', part.script ?? 'build', '-w', part.workspace]
      : ['exec', '--', 'tsc', '-p', 'tsconfig.build.json'];
    execFileSync('npm', args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  process.stdout.write(`built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildIfStale();
