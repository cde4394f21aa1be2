import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BLAS_LIBRARIES, useNativeMatrixProducts } from '../../src/providers/native-matmul.mjs';

/**
 * The model's matrix products in native code (native-matmul.mjs, native/blas.c and
 * packed-product.c): on OpenBLAS and on the packed kernels, against tfjs' WebAssembly kernels, on
 * the same tfjs the model uses. CI installs OpenBLAS and sets PICARD_REQUIRE_BLAS=1, so there the
 * library (and, on x86-64, a packed kernel) must be found; elsewhere the suites that need them say
 * they were skipped and why.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs' own types are not installed (see the worker)
type Tfjs = any;
type Tensor = { dataSync(): Float32Array; dispose(): void; dataId: object };
type Native = Extract<ReturnType<typeof useNativeMatrixProducts>, { active: true }>;

const required = process.env.PICARD_REQUIRE_BLAS === '1';
type Addon = {
  open(candidates: string[]): string;
  sgemm(m: number, n: number, k: number, ...arrays: unknown[]): void;
  packedKernels(): string[];
  packedLength(k: number, n: number): number;
  pack(k: number, n: number, ...arrays: unknown[]): void;
  multiplyPacked(kernel: string, m: number, n: number, k: number, ...arrays: unknown[]): void;
};
/** The addon, or undefined where it is not built. */
const addon = ((): Addon | undefined => {
  try {
    return createRequire(import.meta.url)('../../native/build/Release/picard_blas.node') as Addon;
  } catch {
    return undefined;
  }
})();
const blasOpens = ((): boolean => {
  try {
    addon?.open(BLAS_LIBRARIES);
    return addon !== undefined;
  } catch {
    return false;
  }
})();
const withBlas = blasOpens ? it : it.skip;
const packedKernels = addon?.packedKernels() ?? [];
const withPacked = packedKernels.length > 0 ? it : it.skip;

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

describe('the model’s matrix products in native code', () => {
  let tf: Tfjs;
  let blas: ReturnType<typeof useNativeMatrixProducts>;

  beforeAll(async () => {
    const core = (await import('@energetic-ai/core')) as Tfjs;
    tf = core.default ?? core;
    await tf.ready();
    expect(tf.getBackend()).toBe('wasm');
  });

  afterAll(() => {
    if (blas?.active) blas.restore();
  });

  it('says why when no library can be opened and there are no weights to pack, and changes nothing', () => {
    const kernel = tf.getKernel('BatchMatMul', 'wasm');
    const none = useNativeMatrixProducts(tf, { libraries: ['libpicard-no-such-blas.so.0'] });
    expect(none).toEqual({
      active: false,
      reason: expect.stringContaining(
        'no BLAS library with cblas_sgemm could be opened (tried libpicard-no-such-blas.so.0); ',
      ),
    });
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(kernel);
  });

  it('finds OpenBLAS where it is installed, and a packed kernel on x86-64 (required in CI)', () => {
    blas = useNativeMatrixProducts(tf);
    if (!blas.active) {
      expect(required).toBe(false);
      console.log(`OpenBLAS not found here, its cases are skipped: ${blas.reason}`);
      return;
    }
    expect(BLAS_LIBRARIES).toContain(blas.library?.split(' ')[0]);
    if (required && process.arch === 'x64') expect(packedKernels).toContain('avx2');
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
    const on = useNativeMatrixProducts(tf) as Native;
    try {
      const native = run();
      const fromBlas = native.dataSync().slice();
      native.dispose();
      expect(relativeDifference(fromBlas, fromWasm)).toBeLessThan(1e-6);
      expect(on.blasProducts).toBe(products);
    } finally {
      on.restore();
    }
  }

  /**
   * `run` with the WebAssembly kernels, then with `weights` packed on `kernel` (no BLAS library):
   * the same values, `packed` products on the kernel (each weight laid out for it) and none on BLAS.
   */
  function comparePacked(run: () => Tensor, weights: { dataId: object }[], kernel: string, packed: number) {
    const wasm = run();
    const fromWasm = wasm.dataSync().slice();
    wasm.dispose();
    const on = useNativeMatrixProducts(tf, { libraries: [], weights, packedKernel: kernel }) as Native;
    try {
      const native = run();
      const fromPacked = native.dataSync().slice();
      native.dispose();
      expect(relativeDifference(fromPacked, fromWasm)).toBeLessThan(1e-6);
      expect([on.packedProducts, on.blasProducts, on.weightsLaidOut]).toEqual([packed, 0, packed]);
    } finally {
      on.restore();
    }
  }

  describe.each(packedKernels)('the weights on the packed %s kernel', (kernel) => {
    it('multiplies as the WebAssembly kernel does, for any number of rows and columns', () => {
      // Rows around the kernels' blocks (3 and 12) and columns around their panels (32).
      for (const n of [1, 31, 32, 33, 101]) {
        const weight = tf.tensor2d(random(70 * n), [70, n]);
        for (const m of [1, 2, 3, 4, 11, 12, 13, 25, 37]) {
          const a = tf.tensor2d(random(m * 70), [m, 70]);
          comparePacked(() => tf.matMul(a, weight), [weight], kernel, 1);
          a.dispose();
        }
        weight.dispose();
      }
    });

    it('runs the model’s shapes: feed-forward products and 1×1 convolutions', () => {
      const a = tf.tensor2d(random(11 * 512), [11, 512]);
      const weight = tf.tensor2d(random(512 * 1536), [512, 1536]);
      comparePacked(() => tf.matMul(a, weight), [weight], kernel, 1);
      const x = tf.tensor4d(random(2 * 9 * 512), [2, 9, 1, 512]);
      const filter = tf.tensor4d(random(512 * 512), [1, 1, 512, 512]);
      comparePacked(() => tf.conv2d(x, filter, 1, 'same'), [filter], kernel, 1);
      [a, weight, x, filter].forEach((t) => t.dispose());
    });

    it('lays each weight out once, and again for a reshape that shares its data', () => {
      const values = random(64 * 96);
      const weight = tf.tensor2d(values, [64, 96]);
      const reshaped = tf.reshape(weight, [96, 64]);
      expect(reshaped.dataId).toBe(weight.dataId);
      const a = tf.tensor2d(random(5 * 64), [5, 64]);
      const b = tf.tensor2d(random(5 * 96), [5, 96]);
      // Expected values from separate tensors: tfjs' WebAssembly BatchMatMul corrupts its heap when
      // given a reshape that shares its data (tfjs' own bug; the model never does it).
      const copy = tf.tensor2d(values, [96, 64]);
      const products: [Tensor, Tensor, Tensor][] = [
        [a, weight, weight],
        [a, weight, weight],
        [b, reshaped, copy],
      ];
      const product = (left: Tensor, right: Tensor) => {
        const result = tf.matMul(left, right) as Tensor;
        const flat = result.dataSync().slice();
        result.dispose();
        return flat;
      };
      const fromWasm = products.map(([left, , same]) => product(left, same));
      const on = useNativeMatrixProducts(tf, {
        libraries: [],
        weights: [weight],
        packedKernel: kernel,
      }) as Native;
      try {
        products.forEach(([left, right], i) =>
          expect(relativeDifference(product(left, right), fromWasm[i]!)).toBeLessThan(1e-6),
        );
        expect([on.packedProducts, on.weightsLaidOut]).toEqual([3, 2]);
      } finally {
        on.restore();
      }
      [weight, a, reshaped, b, copy].forEach((t) => t.dispose());
    });

    it('leaves products of other matrices to WebAssembly when no BLAS library opens', () => {
      const weight = tf.tensor2d(random(8 * 8), [8, 8]);
      const other = tf.tensor2d(random(8 * 8), [8, 8]);
      comparePacked(() => tf.matMul(weight, other), [weight], kernel, 0);
      const on = useNativeMatrixProducts(tf, {
        libraries: ['libpicard-no-such-blas.so.0'],
        weights: [weight],
        packedKernel: kernel,
      });
      expect(on).toMatchObject({
        active: true,
        packedKernel: kernel,
        library: undefined,
        description: expect.stringMatching(
          /^packed \w+ kernels for the weights, WebAssembly \(no BLAS library.*\) for the rest$/,
        ),
      });
      if (on.active) on.restore();
      [weight, other].forEach((t) => t.dispose());
    });
  });

  withPacked('refuses a packed kernel this CPU does not run, and arguments outside the arrays', () => {
    expect(() => useNativeMatrixProducts(tf, { packedKernel: 'sse1' })).toThrow(
      `no packed kernel sse1 on this CPU (it runs: ${packedKernels.join(', ')})`,
    );
    const native = addon!;
    const kernel = packedKernels[0]!;
    const f = (n: number) => new Float32Array(n);
    const length = native.packedLength(2, 2);
    expect(length).toBeGreaterThanOrEqual(2 * 32);
    expect(() => native.pack(2, 2, f(3), f(length))).toThrow(
      'pack: an array is shorter than its k and n say',
    );
    expect(() => native.pack(2, 2, f(4), f(length - 1))).toThrow('shorter');
    expect(() => native.pack(2, 0, f(4), f(length))).toThrow('k and n must be positive integers');
    expect(() => native.packedLength(-1, 2)).toThrow('k and n must be positive integers');
    const packed = f(length);
    native.pack(2, 2, Float32Array.of(5, 6, 7, 8), packed);
    expect(() => native.multiplyPacked(kernel, 2, 2, 2, f(3), packed, f(4))).toThrow(
      'multiplyPacked: an array is shorter than its m, n and k say',
    );
    expect(() => native.multiplyPacked(kernel, 2, 2, 2, f(4), packed, f(3))).toThrow('shorter');
    expect(() => native.multiplyPacked(kernel, 2, 2, 3, f(6), packed, f(4))).toThrow('shorter');
    expect(() => native.multiplyPacked('sse1', 2, 2, 2, f(4), packed, f(4))).toThrow(
      'kernel must be one of packedKernels()',
    );
    expect(() => native.multiplyPacked(kernel, 2, 2, 2, new Int32Array(4), packed, f(4))).toThrow(
      'a, packed and c must be Float32Arrays',
    );
    expect(() => native.multiplyPacked(kernel, 2, 2, 2, f(4), packed)).toThrow('seven arguments');
    const c = f(4);
    native.multiplyPacked(kernel, 2, 2, 2, Float32Array.of(1, 2, 3, 4), packed, c);
    expect([...c]).toEqual([19, 22, 43, 50]);
  });

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
      const on = useNativeMatrixProducts(tf) as Native;
      expect(() => tf.matMul(ints, ints)).toThrow(
        'BatchMatMul for non non-float32 tensors not yet supported',
      );
      expect(on.blasProducts).toBe(0);
      on.restore();
      [a, b, batchA, batchB, x, wide, pointwise, ints].forEach((t) => t.dispose());
    });

    withBlas('puts the WebAssembly kernels back on restore', () => {
      const before = tf.getKernel('BatchMatMul', 'wasm');
      const on = useNativeMatrixProducts(tf) as Native;
      expect(tf.getKernel('BatchMatMul', 'wasm')).not.toBe(before);
      on.restore();
      expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(before);
      const a = tf.tensor2d(random(4), [2, 2]);
      tf.matMul(a, a).dispose();
      expect(on.blasProducts).toBe(0);
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
