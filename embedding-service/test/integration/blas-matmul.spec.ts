import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BLAS_LIBRARIES, useBlasMatrixProducts } from '../../src/providers/native-matmul.mjs';

/**
 * The model's matrix products on OpenBLAS (native-matmul.mjs, native/blas.c) against tfjs'
 * WebAssembly kernels, on the same tfjs the model uses. CI installs OpenBLAS and sets
 * PICARD_REQUIRE_BLAS=1, so there the library must be found; elsewhere the suites that need it
 * say they were skipped and why.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs' own types are not installed (see the worker)
type Tfjs = any;
type Tensor = { dataSync(): Float32Array; dispose(): void };
type Blas = Extract<ReturnType<typeof useBlasMatrixProducts>, { active: true }>;

const required = process.env.PICARD_REQUIRE_BLAS === '1';
type Addon = {
  open(candidates: string[]): string;
  sgemm(m: number, n: number, k: number, ...arrays: unknown[]): void;
};
/** The addon with OpenBLAS open, or undefined where either is missing. */
const addon = ((): Addon | undefined => {
  try {
    const loaded = createRequire(import.meta.url)('../../native/build/Release/picard_blas.node') as Addon;
    loaded.open(BLAS_LIBRARIES);
    return loaded;
  } catch {
    return undefined;
  }
})();
const withBlas = addon ? it : it.skip;

let seed = 7;
/** Deterministic values in [-1, 1). */
const random = (n: number) =>
  Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);

/** Largest difference relative to the largest value: float sums in another order differ by ~1e-7. */
function relativeDifference(got: Float32Array, expected: Float32Array) {
  expect(got).toHaveLength(expected.length);
  let diff = 0;
  let scale = 0;
  expected.forEach((x, i) => {
    diff = Math.max(diff, Math.abs(got[i]! - x));
    scale = Math.max(scale, Math.abs(x));
  });
  return diff / scale;
}

describe('the model’s matrix products on OpenBLAS', () => {
  let tf: Tfjs;
  let blas: ReturnType<typeof useBlasMatrixProducts>;

  beforeAll(async () => {
    const core = (await import('@energetic-ai/core')) as Tfjs;
    tf = core.default ?? core;
    await tf.ready();
    expect(tf.getBackend()).toBe('wasm');
  });

  afterAll(() => {
    if (blas?.active) blas.restore();
  });

  it('says why when no library can be opened, and changes nothing', () => {
    const kernel = tf.getKernel('BatchMatMul', 'wasm');
    const none = useBlasMatrixProducts(tf, { libraries: ['libpicard-no-such-blas.so.0'] });
    expect(none).toEqual({
      active: false,
      reason: 'no BLAS library with cblas_sgemm could be opened (tried libpicard-no-such-blas.so.0)',
    });
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(kernel);
  });

  it('finds OpenBLAS where it is installed (required in CI)', () => {
    blas = useBlasMatrixProducts(tf);
    if (!blas.active) {
      expect(required).toBe(false);
      console.log(`OpenBLAS not found here, its cases are skipped: ${blas.reason}`);
      return;
    }
    expect(BLAS_LIBRARIES).toContain(blas.library.split(' ')[0]);
    blas.restore();
  });

  /**
   * `run` with the WebAssembly kernels, then with BLAS: the same values, and BLAS ran `expected`
   * products (0: the case stays on WebAssembly).
   */
  function compare(run: () => Tensor, products: number) {
    const wasm = run();
    const fromWasm = wasm.dataSync().slice();
    wasm.dispose();
    const on = useBlasMatrixProducts(tf) as Blas;
    try {
      const native = run();
      const fromBlas = native.dataSync().slice();
      native.dispose();
      expect(relativeDifference(fromBlas, fromWasm)).toBeLessThan(1e-6);
      expect(on.products).toBe(products);
    } finally {
      on.restore();
    }
  }

  describe('where OpenBLAS is installed', () => {
    withBlas('multiplies two matrices as the WebAssembly kernel does (the feed-forward layers)', () => {
      const a = tf.tensor2d(random(37 * 512), [37, 512]);
      const b = tf.tensor2d(random(512 * 1536), [512, 1536]);
      compare(() => tf.matMul(a, b), 1);
      // One row, and an odd inner size.
      const row = tf.tensor2d(random(13), [1, 13]);
      const tall = tf.tensor2d(random(13 * 7), [13, 7]);
      compare(() => tf.matMul(row, tall), 1);
      [a, b, row, tall].forEach((t) => t.dispose());
    });

    withBlas('runs a 1×1 convolution as a matrix product (the attention projections)', () => {
      const x = tf.tensor4d(random(4 * 13 * 512), [4, 13, 1, 512]);
      const filter = tf.tensor4d(random(512 * 1536), [1, 1, 512, 1536]);
      compare(() => tf.conv2d(x, filter, 1, 'same'), 1);
      compare(() => tf.conv2d(x, filter, [1, 1], 'valid'), 1);
      [x, filter].forEach((t) => t.dispose());
    });

    withBlas('leaves every other case to the WebAssembly kernels, with their results', () => {
      const a = tf.tensor2d(random(6 * 8), [6, 8]);
      const b = tf.tensor2d(random(5 * 8), [5, 8]);
      compare(() => tf.matMul(a, b, false, true), 0); // transposed
      const batchA = tf.tensor3d(random(3 * 6 * 8), [3, 6, 8]);
      const batchB = tf.tensor3d(random(3 * 8 * 5), [3, 8, 5]);
      compare(() => tf.matMul(batchA, batchB), 0); // a batch of products (attention)
      const x = tf.tensor4d(random(2 * 6 * 6 * 8), [2, 6, 6, 8]);
      const wide = tf.tensor4d(random(3 * 3 * 8 * 4), [3, 3, 8, 4]);
      const pointwise = tf.tensor4d(random(8 * 4), [1, 1, 8, 4]);
      compare(() => tf.conv2d(x, wide, 1, 'same'), 0);
      compare(() => tf.conv2d(x, pointwise, 2, 'same'), 0); // strided
      // Integers reach the WebAssembly kernel, which refuses them as it always did.
      const ints = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
      const on = useBlasMatrixProducts(tf) as Blas;
      expect(() => tf.matMul(ints, ints)).toThrow(
        'BatchMatMul for non non-float32 tensors not yet supported',
      );
      expect(on.products).toBe(0);
      on.restore();
      [a, b, batchA, batchB, x, wide, pointwise, ints].forEach((t) => t.dispose());
    });

    withBlas('puts the WebAssembly kernels back on restore', () => {
      const before = tf.getKernel('BatchMatMul', 'wasm');
      const on = useBlasMatrixProducts(tf) as Blas;
      expect(tf.getKernel('BatchMatMul', 'wasm')).not.toBe(before);
      on.restore();
      expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(before);
      const a = tf.tensor2d(random(4), [2, 2]);
      tf.matMul(a, a).dispose();
      expect(on.products).toBe(0);
      a.dispose();
    });

    withBlas('refuses arguments that would reach outside the arrays', () => {
      const blasAddon = addon!;
      const f = (n: number) => new Float32Array(n);
      expect(() => blasAddon.sgemm(2, 2, 2, f(3), f(4), f(4))).toThrow(
        'sgemm: an array is shorter than its m, n and k say',
      );
      expect(() => blasAddon.sgemm(2, 2, 2, f(4), f(4), f(3))).toThrow('shorter');
      expect(() => blasAddon.sgemm(2, 2, 2, new Int32Array(4), f(4), f(4))).toThrow(
        'sgemm: a, b and c must be Float32Arrays',
      );
      expect(() => blasAddon.sgemm(0, 2, 2, f(4), f(4), f(4))).toThrow(
        'm, n and k must be positive integers',
      );
      expect(() => blasAddon.sgemm(2, 2, 2, f(4), f(4))).toThrow('six arguments');
      // And a correct call computes: [[1, 2], [3, 4]] · [[5, 6], [7, 8]].
      const c = f(4);
      blasAddon.sgemm(2, 2, 2, Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), c);
      expect([...c]).toEqual([19, 22, 43, 50]);
    });
  });
});
