// @ts-check
/**
 * The offline model's matrix products in native code. ~87 % of the model's time is two kinds of
 * kernel: BatchMatMul of two matrices (the feed-forward layers) and Conv2D with a 1×1 filter (the
 * attention projections), both plain matrix products. tfjs' WebAssembly backend runs them with
 * 128-bit SIMD at ~16 GMAC/s here. The addon (embedding-service/native, built by `npm install`
 * where a C compiler is) runs them instead:
 * - a product whose right-hand side is one of the model's weights on Picard's packed kernels
 *   (native/packed-product.c): each weight is laid out for them once, on first use, and then read
 *   once per product, where a general sgemm copies it at every call. A query's products have a few
 *   rows, so that copy was most of their cost: 2.5-4 times OpenBLAS's speed at a dozen rows;
 * - any other on OpenBLAS (~43 GMAC/s at the model's shapes), opened at run time where installed.
 * Replacing just those two kernels keeps the rest of the graph, and the vectors, as they were, up
 * to float rounding (offline-worker.spec and blas-matmul.spec compare them). Without the addon
 * nothing is replaced and the model runs as before. Plain JavaScript, as the worker that imports
 * it (see offline-model.worker.mjs).
 */
import { createRequire } from 'node:module';

/** Beside src/providers and dist/providers alike. */
const ADDON = '../../native/build/Release/picard_blas.node';
/** Debian's libopenblas0-pthread (or -serial, -openmp) provides the first through its alternatives. */
export const BLAS_LIBRARIES = ['libopenblas.so.0', 'libopenblas.so'];
const BACKEND = 'wasm';

/**
 * @typedef {{ open(candidates: string[]): string,
 *   sgemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void,
 *   packedKernels(): string[], packedLength(k: number, n: number): number,
 *   pack(k: number, n: number, b: Float32Array, packed: Float32Array): void,
 *   multiplyPacked(kernel: string, m: number, n: number, k: number, a: Float32Array, packed: Float32Array, c: Float32Array): void }} NativeAddon
 * @typedef {{ dataId: object, shape: number[], dtype: string }} TensorInfo
 * @typedef {{ makeOutput(shape: number[], dtype: string): TensorInfo,
 *   typedArrayFromHeap(t: TensorInfo): Float32Array }} WasmBackend
 * @typedef {{ inputs: Record<string, TensorInfo>, backend: WasmBackend, attrs?: Record<string, unknown> }} KernelArgs
 * @typedef {{ kernelName: string, backendName: string, kernelFunc: (args: KernelArgs) => TensorInfo }} KernelConfig
 * @typedef {{ getKernel(name: string, backend: string): KernelConfig | undefined,
 *   registerKernel(config: KernelConfig): void, unregisterKernel(name: string, backend: string): void }} KernelRegistry
 * @typedef {{ m: number, k: number, n: number, a: TensorInfo, b: TensorInfo, shape: number[] }} Product
 * @typedef {{ dataId: object }} Weight
 */

/**
 * The addon, or why it cannot be loaded.
 * @returns {{ addon: NativeAddon } | { reason: string }}
 */
function loadAddon() {
  try {
    return { addon: createRequire(import.meta.url)(ADDON) };
  } catch (err) {
    return { reason: `the native addon is not built (${firstLine(err)})` };
  }
}

/**
 * The library the addon opened (its description), or why none.
 * @param {NativeAddon} addon
 * @param {string[]} candidates
 * @returns {{ library: string } | { reason: string }}
 */
function openBlas(addon, candidates) {
  try {
    return { library: addon.open(candidates) };
  } catch (err) {
    return { reason: `${firstLine(err)} (tried ${candidates.join(', ')})` };
  }
}

/** The packed kernels this CPU runs, best first (none where the addon is not built). */
export function packedKernels() {
  const loaded = loadAddon();
  return 'reason' in loaded ? [] : loaded.addon.packedKernels();
}

/**
 * Each weight laid out once for the packed kernel, on first use. Keyed by the tensor's data: tfjs
 * tensors never change their data, and a reshape that shares it with another shape is packed for
 * that shape instead.
 * @param {NativeAddon} addon
 */
function packedWeights(addon) {
  /** @type {WeakMap<object, { k: number, n: number, packed: Float32Array }>} */
  const laidOut = new WeakMap();
  let layouts = 0;
  return {
    /** How many layouts were made. */
    get layouts() {
      return layouts;
    },
    /**
     * @param {Product} product
     * @param {Float32Array} values the weight's values (row-major k × n)
     */
    of({ k, n, b }, values) {
      const known = laidOut.get(b.dataId);
      if (known && known.k === k && known.n === n) return known.packed;
      const packed = new Float32Array(addon.packedLength(k, n));
      addon.pack(k, n, values, packed);
      laidOut.set(b.dataId, { k, n, packed });
      layouts++;
      return packed;
    },
  };
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
 * Routes the model's plain matrix products to native code, in this thread's tfjs (its kernel
 * registry is per thread): those whose right-hand side is one of `weights` to the best packed
 * kernel this CPU runs (`packedKernel` picks another, for tests), the others to OpenBLAS when it
 * opens; every other case of those kernels, and every product when neither is there, keeps the
 * WebAssembly one. `packedProducts` and `blasProducts` count what ran where, `weightsLaidOut` the
 * layouts made; `restore` puts the WebAssembly kernels back (tests compare both).
 * @param {KernelRegistry} tf
 * @param {{ libraries?: string[], weights?: Iterable<Weight>, packedKernel?: string }} [options]
 * @returns {{ active: true, description: string, packedKernel: string | undefined, library: string | undefined,
 *   readonly packedProducts: number, readonly blasProducts: number, readonly weightsLaidOut: number,
 *   restore(): void } | { active: false, reason: string }}
 */
export function useNativeMatrixProducts(tf, { libraries = BLAS_LIBRARIES, weights = [], packedKernel } = {}) {
  const loaded = loadAddon();
  if ('reason' in loaded) return { active: false, reason: loaded.reason };
  const { addon } = loaded;
  const opened = openBlas(addon, libraries);
  const library = 'library' in opened ? opened.library : undefined;
  const weightList = [...weights];
  const weightData = new WeakSet(weightList.map((w) => w.dataId));
  const kernels = addon.packedKernels();
  if (packedKernel !== undefined && !kernels.includes(packedKernel))
    throw new Error(
      `no packed kernel ${packedKernel} on this CPU (it runs: ${kernels.join(', ') || 'none'})`,
    );
  const kernel = packedKernel ?? kernels[0];
  const packs = kernel !== undefined && weightList.length > 0 ? packedWeights(addon) : undefined;
  if (!library && !packs) {
    const why = kernel === undefined ? 'no packed kernel runs on this CPU' : 'no weights to pack';
    return { active: false, reason: `${'reason' in opened ? opened.reason : ''}; ${why}` };
  }
  /** @type {KernelConfig[]} */
  const originals = [];
  let packedProducts = 0;
  let blasProducts = 0;
  for (const [name, productOf] of REPLACED) {
    const original = tf.getKernel(name, BACKEND);
    if (!original) continue;
    originals.push(original);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const product = productOf(args);
        const onPacked = product !== undefined && packs !== undefined && weightData.has(product.b.dataId);
        if (!product || (!onPacked && !library)) return original.kernelFunc(args);
        const { backend } = args;
        // Laid out before makeOutput: an allocation may grow the heap, which detaches older views.
        const packed = onPacked ? packs.of(product, backend.typedArrayFromHeap(product.b)) : undefined;
        const out = backend.makeOutput(product.shape, 'float32');
        const a = backend.typedArrayFromHeap(product.a);
        const c = backend.typedArrayFromHeap(out);
        if (packed && kernel !== undefined) {
          packedProducts++;
          addon.multiplyPacked(kernel, product.m, product.n, product.k, a, packed, c);
        } else {
          blasProducts++;
          addon.sgemm(product.m, product.n, product.k, a, backend.typedArrayFromHeap(product.b), c);
        }
        return out;
      },
    });
  }
  if (originals.length === 0) return { active: false, reason: `tfjs has no ${BACKEND} kernels to replace` };
  const blasPart = 'reason' in opened ? `WebAssembly (${opened.reason})` : `OpenBLAS (${opened.library})`;
  return {
    active: true,
    description: packs ? `packed ${kernel} kernels for the weights, ${blasPart} for the rest` : blasPart,
    packedKernel: packs ? kernel : undefined,
    library,
    get packedProducts() {
      return packedProducts;
    },
    get blasProducts() {
      return blasProducts;
    },
    get weightsLaidOut() {
      return packs?.layouts ?? 0;
    },
    restore() {
      for (const original of originals.splice(0)) {
        tf.unregisterKernel(original.kernelName, BACKEND);
        tf.registerKernel(original);
      }
    },
  };
}
