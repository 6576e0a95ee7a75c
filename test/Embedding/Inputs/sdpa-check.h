/* Shared by the C API tests that run compiled code (Inputs/aot-driver.c,
 * capi-jit.c): calls a compiled causal grouped-query attention
 * (Inputs/aot-sdpa.mlir: B=2, H=2 query heads over HKV=1 key/value head,
 * N=16, D=8) through its _mlir_ciface_ entry point on seeded inputs and
 * compares the result with the same attention computed here in double
 * precision, independently of the compiler. */

#ifndef ATTN_TEST_EMBEDDING_SDPA_CHECK_H
#define ATTN_TEST_EMBEDDING_SDPA_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

enum { B = 2, H = 2, HKV = 1, N = 16, D = 8 };

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

static float q[B][H][N][D], k[B][HKV][N][D], v[B][HKV][N][D], o[B][H][N][D];

static Memref4 describe(float *data, int64_t heads) {
  Memref4 m = {data, data, 0, {B, heads, N, D}, {heads * N * D, N * D, D, 1}};
  return m;
}

/* A small linear congruential generator: values in [-1, 1). */
static uint32_t state = 12345;
static float next(void) {
  state = state * 1664525u + 1013904223u;
  return (float)((state >> 8) * (1.0 / 16777216.0) * 2.0 - 1.0);
}

/* Runs `fn` and prints "<label>: max abs error E against the float64
 * reference (bound 1e-05): ok" (or FAILED). Returns 0 when within bound. */
static int checkSdpaCausal(const char *label, SdpaCausalFn fn) {
  state = 12345;
  for (int b = 0; b < B; ++b)
    for (int n = 0; n < N; ++n)
      for (int d = 0; d < D; ++d) {
        for (int h = 0; h < H; ++h)
          q[b][h][n][d] = next();
        for (int h = 0; h < HKV; ++h) {
          k[b][h][n][d] = next();
          v[b][h][n][d] = next();
        }
      }
  Memref4 mq = describe(&q[0][0][0][0], H), mk = describe(&k[0][0][0][0], HKV);
  Memref4 mv = describe(&v[0][0][0][0], HKV), mo = describe(&o[0][0][0][0], H);
  Memref4 result;
  fn(&result, &mq, &mk, &mv, &mo);
  if (result.sizes[0] != B || result.sizes[1] != H || result.sizes[2] != N ||
      result.sizes[3] != D) {
    printf("%s: result shape %lldx%lldx%lldx%lld, expected %dx%dx%dx%d\n",
           label, (long long)result.sizes[0], (long long)result.sizes[1],
           (long long)result.sizes[2], (long long)result.sizes[3], B, H, N, D);
    return 1;
  }

  double scale = 1.0 / sqrt((double)D), maxError = 0.0;
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      int kvh = h / (H / HKV);
      for (int i = 0; i < N; ++i) {
        double s[N], max = -INFINITY, sum = 0.0;
        for (int j = 0; j <= i; ++j) { /* causal: j <= i */
          s[j] = 0.0;
          for (int d = 0; d < D; ++d)
            s[j] += (double)q[b][h][i][d] * k[b][kvh][j][d];
          s[j] *= scale;
          if (s[j] > max)
            max = s[j];
        }
        for (int j = 0; j <= i; ++j)
          sum += exp(s[j] - max);
        for (int d = 0; d < D; ++d) {
          double ref = 0.0;
          for (int j = 0; j <= i; ++j)
            ref += exp(s[j] - max) / sum * v[b][kvh][j][d];
          float got =
              result.aligned[result.offset + b * result.strides[0] +
                             h * result.strides[1] + i * result.strides[2] +
                             d * result.strides[3]];
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

#endif /* ATTN_TEST_EMBEDDING_SDPA_CHECK_H */
