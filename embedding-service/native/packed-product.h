#ifndef PICARD_PACKED_PRODUCT_H
#define PICARD_PACKED_PRODUCT_H
#include <stddef.h>

/* The kernels this build and this CPU can run, best first (NULL-terminated names). */
const char *const *packed_kernels(void);
/* Floats a packed k × n matrix needs (alignment slack included). */
size_t packed_length(int k, int n);
/* Lays out row-major b (k × n) for the kernels; packed holds packed_length(k, n) floats. */
void pack_matrix(int k, int n, const float *b, float *packed);
/* c (m × n) = a (m × k) · the matrix packed by pack_matrix, on the named kernel (0: refused). */
int multiply_packed(const char *kernel, int m, int n, int k, const float *a, const float *packed,
                    float *c);

#endif
