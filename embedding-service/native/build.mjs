// Builds the BLAS addon (blas.c) with node-gyp, from `npm install` / `npm run build`. Optional: where
// it cannot be built (no C compiler) the offline model keeps its WebAssembly matrix products, so a
// failure is reported and the build goes on.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Run by npm (`npm install`, `npm run build`), which puts its own node-gyp on the scripts' PATH.
const run = spawnSync('node-gyp', ['rebuild', '--loglevel=warn'], { cwd: here, stdio: 'inherit' });
if (run.status !== 0) {
  console.warn(
    `[embedding-service] the BLAS addon was not built (${run.error?.message ?? `node-gyp exited with ${run.status}`}): ` +
      'the offline model will use its WebAssembly matrix products (slower). It needs a C compiler (g++/make/python3).',
  );
}
