/*===- ArtifactSupport.c - What attn-compile's libraries link statically ---===*
 *
 * memrefCopy, which lowered code calls for a memref.copy between strided
 * buffers (MLIR's C runner utilities define it too; an artifact must not
 * need them), __truncsfbf2 (float -> bf16, from the compiler runtime, which a
 * library linked by the system linker may lack), and attn_artifact_free, with which a caller frees the results
 * that the library allocated (with this library's malloc).
 *
 *===----------------------------------------------------------------------===*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "StridedCopy.h"

/* A ranked descriptor of rank r: allocated, aligned, offset, sizes[r],
   strides[r]; an unranked one points at it. */
typedef struct {
  int64_t rank;
  void *descriptor;
} AttnUnrankedMemRef;

typedef struct {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[];
} AttnRankedMemRef;

__attribute__((visibility("default"))) void
memrefCopy(int64_t elementSize, AttnUnrankedMemRef *source,
           AttnUnrankedMemRef *target) {
  int64_t rank = source->rank;
  const AttnRankedMemRef *src = source->descriptor;
  const AttnRankedMemRef *dst = target->descriptor;
  attnStridedCopy(elementSize, rank, src->sizesAndStrides,
                  src->sizesAndStrides + rank, dst->sizesAndStrides + rank,
                  src->aligned + src->offset * elementSize,
                  dst->aligned + dst->offset * elementSize);
}

__attribute__((visibility("default"))) void attn_artifact_free(void *pointer) {
  free(pointer);
}

/* Rounds to the nearest bf16, ties to even; NaN stays a (quiet) NaN. */
__attribute__((weak, visibility("hidden"))) __bf16 __truncsfbf2(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    bits |= 0x00400000u;
  else
    bits += 0x7fffu + ((bits >> 16) & 1u);
  uint16_t high = (uint16_t)(bits >> 16);
  __bf16 result;
  memcpy(&result, &high, sizeof(result));
  return result;
}
