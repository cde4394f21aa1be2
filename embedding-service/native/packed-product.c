/*
 * Matrix products with a constant right-hand side laid out once (the model's weights), for the
 * small left-hand sides a query gives (a few to a few dozen token rows).
 *
 * A general sgemm (OpenBLAS) packs the right-hand matrix into its kernel's layout at every call:
 * for a 2 × 512 activation against a 512 × 1536 weight that copy of 3 MB is most of the work, so a
 * short query's products ran at 4-15 GMAC/s. Packed once, the weights are read once per product,
 * in order: on this machine 2.5-4 times OpenBLAS's speed for up to a dozen rows and no slower for
 * thousands (measured 2026-12-06, README).
 *
 * Layout: panels of PANEL columns (the last zero-padded), each panel its k rows one after another,
 * so a panel streams from memory in order. Each panel is multiplied by every block of rows of a
 * (12 on AVX-512, 3 on AVX2: what the registers hold as accumulators) while it is in cache.
 */
#include "packed-product.h"

#include <stdint.h>
#include <string.h>

#define PANEL 32
/* Panels start on a cache line: the packed array may start anywhere a float can. */
#define ALIGN_FLOATS 16

/* Unaligned vectors of 16 and 8 floats (AVX-512 and AVX2 registers). */
typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef float v8 __attribute__((vector_size(32), aligned(4)));

static float *aligned(const float *p) {
  uintptr_t at = (uintptr_t)p;
  return (float *)((at + 63) & ~(uintptr_t)63);
}

size_t packed_length(int k, int n) {
  size_t panels = ((size_t)n + PANEL - 1) / PANEL;
  return panels * PANEL * (size_t)k + ALIGN_FLOATS;
}

void pack_matrix(int k, int n, const float *b, float *packed) {
  float *out = aligned(packed);
  for (int column = 0; column < n; column += PANEL) {
    int width = n - column < PANEL ? n - column : PANEL;
    for (int row = 0; row < k; row++, out += PANEL) {
      memcpy(out, b + (size_t)row * n + column, (size_t)width * sizeof *out);
      memset(out + width, 0, (size_t)(PANEL - width) * sizeof *out);
    }
  }
}

/*
 * One panel times `rows` rows of a (rows a constant after inlining, so the accumulators stay in
 * registers): PANEL / lanes vectors of `vec` per row. A vector wider than the caller's registers
 * would be split element by element, so each kernel names the width it has.
 */
#define DEFINE_PANEL_BLOCK(name, vec, lanes)                                                   \
  static inline __attribute__((always_inline)) void name(int rows, int k, int n, int width,    \
                                                         const float *a, const float *panel,   \
                                                         float *c) {                           \
    enum { PER_ROW = PANEL / (lanes) };                                                        \
    vec sums[12][PER_ROW];                                                                     \
    _Pragma("GCC unroll 12") for (int r = 0; r < rows; r++)                                    \
        _Pragma("GCC unroll 4") for (int j = 0; j < PER_ROW; j++) sums[r][j] = (vec){0};       \
    for (int i = 0; i < k; i++, panel += PANEL) {                                              \
      vec b[PER_ROW];                                                                          \
      _Pragma("GCC unroll 4") for (int j = 0; j < PER_ROW; j++) b[j] = *(const vec *)(panel + j * (lanes)); \
      _Pragma("GCC unroll 12") for (int r = 0; r < rows; r++) {                                \
        float x = a[(size_t)r * k + i];                                                        \
        _Pragma("GCC unroll 4") for (int j = 0; j < PER_ROW; j++) sums[r][j] += x * b[j];      \
      }                                                                                        \
    }                                                                                          \
    for (int r = 0; r < rows; r++) {                                                           \
      float row[PANEL];                                                                        \
      float *out = width == PANEL ? c + (size_t)r * n : row;                                   \
      for (int j = 0; j < PER_ROW; j++) *(vec *)(out + j * (lanes)) = sums[r][j];              \
      if (width != PANEL) memcpy(c + (size_t)r * n, row, (size_t)width * sizeof *out);         \
    }                                                                                          \
  }

/* The product with blocks of up to `block` rows (a constant per kernel: what its registers hold). */
#define PRODUCT_BODY(block)                                                                    \
  const float *panels = aligned(packed);                                                       \
  for (int column = 0; column < n; column += PANEL) {                                          \
    int width = n - column < PANEL ? n - column : PANEL;                                       \
    const float *panel = panels + (size_t)(column / PANEL) * PANEL * k;                        \
    for (int row = 0; row < m; row += block) {                                                 \
      int rows = m - row < block ? m - row : block;                                            \
      const float *a_rows = a + (size_t)row * k;                                               \
      float *c_rows = c + (size_t)row * n + column;                                            \
      switch (rows) {                                                                          \
        PANEL_CASES                                                                            \
      }                                                                                        \
    }                                                                                          \
  }

#define CASE(r) \
  case r: PANEL_BLOCK(r, k, n, width, a_rows, panel, c_rows); break;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86_KERNELS 1

DEFINE_PANEL_BLOCK(panel_block_16, v16, 16)
DEFINE_PANEL_BLOCK(panel_block_8, v8, 8)

/* 32 vector registers of 16 floats: 24 accumulators, two panel values and a row's value. */
__attribute__((target("avx512f"))) static void product_avx512(int m, int n, int k, const float *a,
                                                              const float *packed, float *c) {
#define PANEL_BLOCK panel_block_16
#define PANEL_CASES CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8) CASE(9) \
  CASE(10) CASE(11) CASE(12)
  PRODUCT_BODY(12)
#undef PANEL_CASES
#undef PANEL_BLOCK
}

/* 16 registers of 8 floats: a row's 32 columns take four, so 12 for three rows' accumulators. */
__attribute__((target("avx2,fma"))) static void product_avx2(int m, int n, int k, const float *a,
                                                             const float *packed, float *c) {
#define PANEL_BLOCK panel_block_8
#define PANEL_CASES CASE(1) CASE(2) CASE(3)
  PRODUCT_BODY(3)
#undef PANEL_CASES
#undef PANEL_BLOCK
}
#endif

static const char *kernel_names[3];

/* Once, when the addon loads: every worker thread that loads it then only reads the list. */
__attribute__((constructor)) static void find_kernels(void) {
  int found = 0;
#ifdef HAVE_X86_KERNELS
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) kernel_names[found++] = "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernel_names[found++] = "avx2";
#endif
  kernel_names[found] = NULL;
}

const char *const *packed_kernels(void) { return kernel_names; }

int multiply_packed(const char *kernel, int m, int n, int k, const float *a, const float *packed,
                    float *c) {
  int supported = 0;
  for (const char *const *name = packed_kernels(); *name; name++)
    if (strcmp(*name, kernel) == 0) supported = 1;
  if (!supported) return 0;
#ifdef HAVE_X86_KERNELS
  if (strcmp(kernel, "avx512") == 0) product_avx512(m, n, k, a, packed, c);
  else product_avx2(m, n, k, a, packed, c);
  return 1;
#else
  (void)m, (void)n, (void)k, (void)a, (void)packed, (void)c;
  return 0;
#endif
}
