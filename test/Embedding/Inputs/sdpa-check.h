/* Shared by the C API tests that run compiled code (Inputs/aot-driver.c,
 * capi-jit.c, capi-artifact.c): calls a compiled causal grouped-query
 * attention (Inputs/aot-sdpa.mlir: B=2, H=2 query heads over HKV=1
 * key/value head, N=16, D=8; capi-artifact.c: N dynamic, up to NMAX)
 * through its _mlir_ciface_ entry point on seeded inputs and compares the
 * result with the same attention computed here in double precision,
 * independently of the compiler. */

#ifndef ATTN_TEST_EMBEDDING_SDPA_CHECK_H
#define ATTN_TEST_EMBEDDING_SDPA_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

enum { B = 2, H = 2, HKV = 1, N = 16, NMAX = 64, D = 8 };

/* The memref descriptor of a rank-4 f32 memref. */
typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[4];
  int64_t strides[4];
} Memref4;

/* The signature of _mlir_ciface_sdpa_causal: the result descriptor first. */
typedef void (*SdpaCausalFn)(Memref4 *result, Memref4 *q, Memref4 *k,
                             Memref4 *v, Memref4 *o);

/* Dense [B][heads][n][D] arrays for any n <= NMAX. */
static float q[B * H * NMAX * D], k[B * HKV * NMAX * D],
    v[B * HKV * NMAX * D], o[B * H * NMAX * D];

/* Element [b][h][i][d] of a dense array of `heads` heads and length n. */
#define AT(a, heads, n, b, h, i, d) a[(((b) * (heads) + (h)) * (n) + (i)) * D + (d)]

static Memref4 describe(float *data, int64_t heads, int64_t n) {
  Memref4 m = {data, data, 0, {B, heads, n, D}, {heads * n * D, n * D, D, 1}};
  return m;
}

/* A small linear congruential generator: values in [-1, 1). */
static uint32_t state = 12345;
static float next(void) {
  state = state * 1664525u + 1013904223u;
  return (float)((state >> 8) * (1.0 / 16777216.0) * 2.0 - 1.0);
}

/* Seeded inputs of length n in q, k and v, and the descriptors of q, k, v
 * and o (the outs operand) in `descriptors`. */
static void makeInputs(int64_t n, Memref4 descriptors[4]) {
  state = 12345;
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < n; ++i)
      for (int d = 0; d < D; ++d) {
        for (int h = 0; h < H; ++h)
          AT(q, H, n, b, h, i, d) = next();
        for (int h = 0; h < HKV; ++h) {
          AT(k, HKV, n, b, h, i, d) = next();
          AT(v, HKV, n, b, h, i, d) = next();
        }
      }
  descriptors[0] = describe(q, H, n);
  descriptors[1] = describe(k, HKV, n);
  descriptors[2] = describe(v, HKV, n);
  descriptors[3] = describe(o, H, n);
}

/* Compares `result` (of the inputs of makeInputs(n)) with GQA in double
 * precision, causal or dense, and prints "<label>: max abs error E against
 * the float64 reference (bound 1e-05): ok" (or FAILED). Returns 0 when
 * within bound. */
static int compareSdpa(const char *label, int64_t n, const Memref4 *result,
                       int causal) {
  if (result->sizes[0] != B || result->sizes[1] != H ||
      result->sizes[2] != n || result->sizes[3] != D) {
    printf("%s: result shape %lldx%lldx%lldx%lld, expected %dx%dx%lldx%d\n",
           label, (long long)result->sizes[0], (long long)result->sizes[1],
           (long long)result->sizes[2], (long long)result->sizes[3], B, H,
           (long long)n, D);
    return 1;
  }
  double scale = 1.0 / sqrt((double)D), maxError = 0.0;
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      int kvh = h / (H / HKV);
      for (int i = 0; i < n; ++i) {
        double s[NMAX], max = -INFINITY, sum = 0.0;
        int last = causal ? i : (int)n - 1; /* causal: j <= i */
        for (int j = 0; j <= last; ++j) {
          s[j] = 0.0;
          for (int d = 0; d < D; ++d)
            s[j] += (double)AT(q, H, n, b, h, i, d) * AT(k, HKV, n, b, kvh, j, d);
          s[j] *= scale;
          if (s[j] > max)
            max = s[j];
        }
        for (int j = 0; j <= last; ++j)
          sum += exp(s[j] - max);
        for (int d = 0; d < D; ++d) {
          double ref = 0.0;
          for (int j = 0; j <= last; ++j)
            ref += exp(s[j] - max) / sum * AT(v, HKV, n, b, kvh, j, d);
          float got =
              result->aligned[result->offset + b * result->strides[0] +
                              h * result->strides[1] + i * result->strides[2] +
                              d * result->strides[3]];
          double error = fabs((double)got - ref);
          if (!(error <= maxError)) /* also catches NaN */
            maxError = isnan(error) ? INFINITY : error;
        }
      }
    }
  int ok = maxError <= 1e-5;
  printf("%s: max abs error %.3e against the float64 reference (bound "
         "1e-05): %s\n",
         label, maxError, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

/* Runs `fn` on the inputs of length N and checks its result. */
static int checkSdpaCausal(const char *label, SdpaCausalFn fn) {
  Memref4 in[4], result;
  makeInputs(N, in);
  fn(&result, &in[0], &in[1], &in[2], &in[3]);
  return compareSdpa(label, N, &result, /*causal=*/1);
}

#endif /* ATTN_TEST_EMBEDDING_SDPA_CHECK_H */
