import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PARTS, staleParts } from '../scripts/build-if-stale.mjs';

type Part = { name: string; inputs: string[]; outputs: string[] };

/** Jest's build step decides from file times which parts to rebuild: a tree of its own to decide on. */
describe('the test run rebuilds what changed (scripts/build-if-stale.mjs)', () => {
  let root: string;
  const file = (path: string, minutesAgo: number) => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, '');
    const at = Date.now() / 1000 - minutesAgo * 60;
    utimesSync(full, at, at);
  };
  const stale = () => (staleParts(root) as Part[]).map((p) => p.name);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'picard-build-'));
    // Every part built a minute ago from sources two minutes old: nothing to do.
    for (const part of PARTS as Part[]) {
      for (const input of part.inputs) file(input.includes('.') ? input : join(input, 'x.ts'), 2);
      for (const output of part.outputs) file(join(output, 'x.js'), 1);
    }
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds nothing when every output is newer than its sources', () => {
    expect(stale()).toEqual([]);
  });

  it.each(['blas.c', 'packed-product.c', 'packed-product.h'])(
    'rebuilds embedding-service when only its addon source %s changed, not when the addon was built',
    (source) => {
      file('embedding-service/native/build/Release/picard_blas.node', 0);
      expect(stale()).toEqual([]);
      file(`embedding-service/native/${source}`, 0);
      expect(stale()).toEqual(['embedding-service']);
    },
  );

  it('ignores a changed spec, rebuilds a changed source and a part never built', () => {
    file('memory-service/src/domain/x.spec.ts', 0);
    expect(stale()).toEqual([]);
    file('memory-service/src/domain/x.ts', 0);
    rmSync(join(root, 'gateway/dist'), { recursive: true });
    expect(stale()).toEqual(['memory-service', 'gateway']);
  });
});
