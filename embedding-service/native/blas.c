/*
 * The model's large matrix products in native code: its weights on Picard's packed kernels
 * (packed-product.c), any other product on the machine's OpenBLAS (about 2.7 times the speed of
 * tfjs' WebAssembly kernels at the model's shapes on this machine's AVX-512 cores).
 *
 * OpenBLAS is opened at run time (dlopen), not linked: the addon builds wherever a C compiler
 * is, and a machine without the library reports so and keeps the WebAssembly kernels for what
 * the packed kernels do not take. Context aware (NAPI_MODULE_INIT), so every model worker thread
 * may load it.
 */
#include "packed-product.h"

#include <dlfcn.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>

/* CBLAS's enum values (cblas.h), so no header of the library is needed at build time. */
enum { ROW_MAJOR = 101, NO_TRANS = 111 };
typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);
typedef void (*set_threads_fn)(int threads);
typedef char *(*core_name_fn)(void);

/* The library last opened, shared by every thread that loads the addon (dlopen is per process). */
static sgemm_fn sgemm;

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* The call's first `count` arguments into argv; false when it has fewer. */
static int take_args(napi_env env, napi_callback_info info, napi_value *argv, size_t count) {
  size_t argc = count;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= count;
}

/*
 * open(candidates: string[]): string — opens the first library that has cblas_sgemm, which
 * sgemm() then uses, and describes it (name and, for OpenBLAS, the kernels it chose).
 */
static napi_value open_library(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!take_args(env, info, argv, 1))
    return fail(env, "open(candidates) needs a list of library names");
  uint32_t count = 0;
  if (napi_get_array_length(env, argv[0], &count) != napi_ok)
    return fail(env, "open(candidates): candidates must be an array of strings");
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    char name[512];
    size_t length = 0;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok ||
        napi_get_value_string_utf8(env, item, name, sizeof name, &length) != napi_ok)
      return fail(env, "open(candidates): candidates must be an array of strings");
    /* RTLD_NODELETE: the library stays for the process even when a worker's addon is unloaded. */
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!lib) continue;
    sgemm_fn found = (sgemm_fn)dlsym(lib, "cblas_sgemm");
    if (!found) continue;
    /* The model runs one product per worker thread at a time; the library must not add threads. */
    set_threads_fn set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
    if (set_threads) set_threads(1);
    core_name_fn core_name = (core_name_fn)dlsym(lib, "openblas_get_corename");
    char described[1024];
    snprintf(described, sizeof described, "%s%s%s", name, core_name ? " " : "",
             core_name ? core_name() : "");
    sgemm = found;
    napi_value result;
    napi_create_string_utf8(env, described, NAPI_AUTO_LENGTH, &result);
    return result;
  }
  return fail(env, "no BLAS library with cblas_sgemm could be opened");
}

static int float_array(napi_env env, napi_value value, float **data, size_t *length) {
  napi_typedarray_type type;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok ||
      type != napi_float32_array)
    return 0;
  *data = raw;
  return 1;
}

static int dimension(napi_env env, napi_value value, int32_t *out) {
  return napi_get_value_int32(env, value, out) == napi_ok && *out > 0;
}

/* m, n and k from three arguments, each positive. */
static int dimensions(napi_env env, napi_value *argv, int32_t *m, int32_t *n, int32_t *k) {
  return dimension(env, argv[0], m) && dimension(env, argv[1], n) && dimension(env, argv[2], k);
}

/*
 * sgemm(m, n, k, a, b, c): c = a · b for row-major a (m × k), b (k × n), c (m × n), each a
 * Float32Array at least that long. Checked here, since a wrong length would read or write
 * outside the arrays.
 */
static napi_value multiply(napi_env env, napi_callback_info info) {
  if (!sgemm) return fail(env, "sgemm: no BLAS library is open");
  napi_value argv[6];
  if (!take_args(env, info, argv, 6))
    return fail(env, "sgemm(m, n, k, a, b, c) takes six arguments");
  int32_t m, n, k;
  if (!dimensions(env, argv, &m, &n, &k)) return fail(env, "sgemm: m, n and k must be positive integers");
  float *a, *b, *c;
  size_t a_length, b_length, c_length;
  if (!float_array(env, argv[3], &a, &a_length) || !float_array(env, argv[4], &b, &b_length) ||
      !float_array(env, argv[5], &c, &c_length))
    return fail(env, "sgemm: a, b and c must be Float32Arrays");
  if (a_length < (size_t)m * k || b_length < (size_t)k * n || c_length < (size_t)m * n)
    return fail(env, "sgemm: an array is shorter than its m, n and k say");
  sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
  return NULL;
}

/* packedKernels(): string[] — the packed kernels this CPU runs, best first (none: empty). */
static napi_value list_packed_kernels(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value list;
  napi_create_array(env, &list);
  uint32_t i = 0;
  for (const char *const *name = packed_kernels(); *name; name++, i++) {
    napi_value item;
    napi_create_string_utf8(env, *name, NAPI_AUTO_LENGTH, &item);
    napi_set_element(env, list, i, item);
  }
  return list;
}

/* packedLength(k, n): number — how many floats pack(k, n, …) needs. */
static napi_value length_of_packed(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t k, n;
  if (!take_args(env, info, argv, 2) || !dimension(env, argv[0], &k) || !dimension(env, argv[1], &n))
    return fail(env, "packedLength(k, n): k and n must be positive integers");
  napi_value result;
  napi_create_double(env, (double)packed_length(k, n), &result);
  return result;
}

/* pack(k, n, b, packed): lays out row-major b (k × n) into packed (packedLength(k, n) floats). */
static napi_value pack(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t k, n;
  float *b, *packed;
  size_t b_length, packed_floats;
  if (!take_args(env, info, argv, 4)) return fail(env, "pack(k, n, b, packed) takes four arguments");
  if (!dimension(env, argv[0], &k) || !dimension(env, argv[1], &n))
    return fail(env, "pack: k and n must be positive integers");
  if (!float_array(env, argv[2], &b, &b_length) || !float_array(env, argv[3], &packed, &packed_floats))
    return fail(env, "pack: b and packed must be Float32Arrays");
  if (b_length < (size_t)k * n || packed_floats < packed_length(k, n))
    return fail(env, "pack: an array is shorter than its k and n say");
  pack_matrix(k, n, b, packed);
  return NULL;
}

/*
 * multiplyPacked(kernel, m, n, k, a, packed, c): c = a · b for row-major a (m × k) and c (m × n),
 * b (k × n) as pack() laid it out, on one of packedKernels().
 */
static napi_value multiply_with_packed(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!take_args(env, info, argv, 7))
    return fail(env, "multiplyPacked(kernel, m, n, k, a, packed, c) takes seven arguments");
  char kernel[32];
  size_t kernel_length;
  if (napi_get_value_string_utf8(env, argv[0], kernel, sizeof kernel, &kernel_length) != napi_ok)
    return fail(env, "multiplyPacked: kernel must be one of packedKernels()");
  int32_t m, n, k;
  if (!dimensions(env, argv + 1, &m, &n, &k))
    return fail(env, "multiplyPacked: m, n and k must be positive integers");
  float *a, *packed, *c;
  size_t a_length, packed_floats, c_length;
  if (!float_array(env, argv[4], &a, &a_length) || !float_array(env, argv[5], &packed, &packed_floats) ||
      !float_array(env, argv[6], &c, &c_length))
    return fail(env, "multiplyPacked: a, packed and c must be Float32Arrays");
  if (a_length < (size_t)m * k || packed_floats < packed_length(k, n) || c_length < (size_t)m * n)
    return fail(env, "multiplyPacked: an array is shorter than its m, n and k say");
  if (!multiply_packed(kernel, m, n, k, a, packed, c))
    return fail(env, "multiplyPacked: kernel must be one of packedKernels()");
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"open", NULL, open_library, NULL, NULL, NULL, napi_default, NULL},
      {"sgemm", NULL, multiply, NULL, NULL, NULL, napi_default, NULL},
      {"packedKernels", NULL, list_packed_kernels, NULL, NULL, NULL, napi_default, NULL},
      {"packedLength", NULL, length_of_packed, NULL, NULL, NULL, napi_default, NULL},
      {"pack", NULL, pack, NULL, NULL, NULL, napi_default, NULL},
      {"multiplyPacked", NULL, multiply_with_packed, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof *methods, methods);
  return exports;
}
