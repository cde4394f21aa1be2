// @ts-check
/**
 * The offline model's matrix products on OpenBLAS. ~87 % of the model's time is two kinds of
 * kernel: BatchMatMul of two matrices (the feed-forward layers) and Conv2D with a 1×1 filter (the
 * attention projections), both plain matrix products. tfjs' WebAssembly backend runs them with
 * 128-bit SIMD at ~16 GMAC/s here; OpenBLAS uses the cores' AVX2/AVX-512 (~43 GMAC/s at the same
 * shapes). Replacing just those two kernels keeps the rest of the graph, and the vectors, as they
 * were, up to float rounding (offline-worker.spec compares them).
 *
 * The addon (embedding-service/native, built by `npm install` where a C compiler is) opens the
 * library at run time; without either, nothing is replaced and the model runs as before. Plain
 * JavaScript, as the worker that imports it (see offline-model.worker.mjs).
 */
import { createRequire } from 'node:module';

/** Beside src/providers and dist/providers alike. */
const ADDON = '../../native/build/Release/picard_blas.node';
/** Debian's libopenblas0-pthread (or -serial, -openmp) provides the first through its alternatives. */
export const BLAS_LIBRARIES = ['libopenblas.so.0', 'libopenblas.so'];
const BACKEND = 'wasm';

/**
 * @typedef {{ open(candidates: string[]): string,
 *   sgemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void }} BlasAddon
 * @typedef {{ dataId: object, shape: number[], dtype: string }} TensorInfo
 * @typedef {{ makeOutput(shape: number[], dtype: string): TensorInfo,
 *   typedArrayFromHeap(t: TensorInfo): Float32Array }} WasmBackend
 * @typedef {{ inputs: Record<string, TensorInfo>, backend: WasmBackend, attrs?: Record<string, unknown> }} KernelArgs
 * @typedef {{ kernelName: string, backendName: string, kernelFunc: (args: KernelArgs) => TensorInfo }} KernelConfig
 * @typedef {{ getKernel(name: string, backend: string): KernelConfig | undefined,
 *   registerKernel(config: KernelConfig): void, unregisterKernel(name: string, backend: string): void }} KernelRegistry
 * @typedef {{ m: number, k: number, n: number, a: TensorInfo, b: TensorInfo, shape: number[] }} Product
 */

/**
 * The addon with a library open, or why there is none.
 * @param {string[]} candidates
 * @returns {{ addon: BlasAddon, library: string } | { reason: string }}
 */
function openBlas(candidates) {
  /** @type {BlasAddon} */
  let addon;
  try {
    addon = createRequire(import.meta.url)(ADDON);
  } catch (err) {
    return { reason: `the BLAS addon is not built (${firstLine(err)})` };
  }
  try {
    return { addon, library: addon.open(candidates) };
  } catch (err) {
    return { reason: `${firstLine(err)} (tried ${candidates.join(', ')})` };
  }
}

/**
 * The message's first line (the addon's errors may come from another realm, as under jest's vm).
 * @param {unknown} err
 */
const firstLine = (err) =>
  String(err && typeof err === 'object' && 'message' in err ? err.message : err).split('\n')[0];

/** @param {unknown} value */
const isOne = (value) => value === 1 || (Array.isArray(value) && value.every((v) => v === 1));

/** @param {number[]} dims */
const positive = (dims) => dims.every((d) => d > 0);

/**
 * BatchMatMul of two float32 matrices, neither transposed: the feed-forward layers.
 * @param {KernelArgs} args
 * @returns {Product | undefined}
 */
function matrixProduct({ inputs: { a, b }, attrs }) {
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  if (a.shape.length !== 2 || b.shape.length !== 2 || attrs?.transposeA || attrs?.transposeB)
    return undefined;
  const [m, k] = /** @type {[number, number]} */ (a.shape);
  const [k2, n] = /** @type {[number, number]} */ (b.shape);
  if (k !== k2 || !positive([m, k, n])) return undefined;
  return { m, k, n, a, b, shape: [m, n] };
}

/**
 * Conv2D with a 1×1 filter, stride 1, no dilation and no padding, channels last: a matrix product
 * of every position's channels with the filter (the attention projections).
 * @param {KernelArgs} args
 * @returns {Product | undefined}
 */
function pointwiseConvolution({ inputs: { x, filter }, attrs = {} }) {
  if (!x || !filter || x.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  if (x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const [batch, height, width, channels] = /** @type {[number, number, number, number]} */ (x.shape);
  const [rows, columns, inChannels, outChannels] = /** @type {[number, number, number, number]} */ (
    filter.shape
  );
  if (rows !== 1 || columns !== 1 || inChannels !== channels) return undefined;
  if (!isOne(attrs.strides) || !isOne(attrs.dilations ?? 1)) return undefined;
  if (!(attrs.pad === 'valid' || attrs.pad === 'same' || attrs.pad === 0)) return undefined;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return undefined;
  const m = batch * height * width;
  if (!positive([m, channels, outChannels])) return undefined;
  return { m, k: channels, n: outChannels, a: x, b: filter, shape: [batch, height, width, outChannels] };
}

/** @type {[string, (args: KernelArgs) => Product | undefined][]} */
const REPLACED = [
  ['BatchMatMul', matrixProduct],
  ['Conv2D', pointwiseConvolution],
];

/**
 * Routes the model's plain matrix products to OpenBLAS, in this thread's tfjs (its kernel registry
 * is per thread); every other case of those kernels keeps the WebAssembly one. `products` counts
 * the products BLAS ran; `restore` puts the WebAssembly kernels back (tests compare both).
 * @param {KernelRegistry} tf
 * @param {{ libraries?: string[] }} [options]
 * @returns {{ active: true, library: string, readonly products: number, restore(): void } | { active: false, reason: string }}
 */
export function useBlasMatrixProducts(tf, { libraries = BLAS_LIBRARIES } = {}) {
  const opened = openBlas(libraries);
  if ('reason' in opened) return { active: false, reason: opened.reason };
  const { addon: blas } = opened;
  /** @type {KernelConfig[]} */
  const originals = [];
  let products = 0;
  for (const [name, productOf] of REPLACED) {
    const original = tf.getKernel(name, BACKEND);
    if (!original) continue;
    originals.push(original);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const product = productOf(args);
        if (!product) return original.kernelFunc(args);
        const { backend } = args;
        products++;
        const out = backend.makeOutput(product.shape, 'float32');
        // Views taken after makeOutput: an allocation may grow the heap, which detaches older views.
        blas.sgemm(
          product.m,
          product.n,
          product.k,
          backend.typedArrayFromHeap(product.a),
          backend.typedArrayFromHeap(product.b),
          backend.typedArrayFromHeap(out),
        );
        return out;
      },
    });
  }
  if (originals.length === 0) return { active: false, reason: `tfjs has no ${BACKEND} kernels to replace` };
  return {
    active: true,
    library: opened.library,
    get products() {
      return products;
    },
    restore() {
      for (const original of originals.splice(0)) {
        tf.unregisterKernel(original.kernelName, BACKEND);
        tf.registerKernel(original);
      }
    },
  };
}
