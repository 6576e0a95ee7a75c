/*===- StridedCopy.h - memref.copy between strided buffers --------*- C -*-===*
 *
 * The body of `memrefCopy`, which lowered code calls for a memref.copy that
 * finalize-memref-to-llvm cannot prove contiguous (a dynamic size or a
 * strided layout; the flash core's output tiles, whose row count is dynamic,
 * go through it). The innermost dims that are contiguous in both buffers are
 * copied as one memcpy per run, the others one run at a time (MLIR's C
 * runner utilities copy one element at a time). Header-only C, shared by the
 * artifacts' support library (ArtifactSupport.c) and attn-run's JIT hooks.
 *
 *===----------------------------------------------------------------------===*/
#ifndef ATTN_RUNTIME_STRIDEDCOPY_H
#define ATTN_RUNTIME_STRIDEDCOPY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The most dims of size > 1 (the odometer's arrays). */
#define ATTN_STRIDED_COPY_MAX_RANK 16

/* Copies `sizes` elements of `elementSize` bytes from `from` (strides
   `srcStrides`, in elements) to `to` (strides `dstStrides`). */
static inline void attnStridedCopy(int64_t elementSize, int64_t rank,
                                   const int64_t *sizes,
                                   const int64_t *srcStrides,
                                   const int64_t *dstStrides, const char *from,
                                   char *to) {
  int64_t n = 0, size[ATTN_STRIDED_COPY_MAX_RANK];
  int64_t sStride[ATTN_STRIDED_COPY_MAX_RANK], dStride[ATTN_STRIDED_COPY_MAX_RANK];
  for (int64_t d = 0; d < rank; ++d) {
    if (sizes[d] == 0)
      return;
    if (sizes[d] == 1)
      continue;
    if (n == ATTN_STRIDED_COPY_MAX_RANK)
      abort();
    size[n] = sizes[d];
    sStride[n] = srcStrides[d];
    dStride[n] = dstStrides[d];
    ++n;
  }
  /* The innermost dims contiguous in both: one run of `run` elements. */
  int64_t run = 1;
  while (n > 0 && sStride[n - 1] == run && dStride[n - 1] == run) {
    run *= size[n - 1];
    --n;
  }
  size_t runBytes = (size_t)(run * elementSize);
  int64_t index[ATTN_STRIDED_COPY_MAX_RANK] = {0};
  int64_t srcOffset = 0, dstOffset = 0;
  for (;;) {
    memcpy(to + dstOffset * elementSize, from + srcOffset * elementSize,
           runBytes);
    int64_t d = n - 1;
    for (; d >= 0; --d) {
      srcOffset += sStride[d];
      dstOffset += dStride[d];
      if (++index[d] < size[d])
        break;
      srcOffset -= sStride[d] * size[d];
      dstOffset -= dStride[d] * size[d];
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

#endif /* ATTN_RUNTIME_STRIDEDCOPY_H */
