//===- MemrefCopy.cpp - memref.copy for compiled code ----------------------===//
//
// attn-run's `memrefCopy` for the JIT: the artifacts' strided copy
// (runtime/StridedCopy.h: one memcpy per run contiguous in both buffers)
// instead of MLIR's C runner utilities, which copy one element at a time.
//
//===----------------------------------------------------------------------===//
#include "RuntimeHooks.h"

#include "StridedCopy.h"

namespace {
/// The C interface's unranked memref: rank and a pointer to the ranked
/// descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}.
struct UnrankedDescriptor {
  int64_t rank;
  const int64_t *descriptor;
};
} // namespace

void attn_run::attnRunMemrefCopy(int64_t elemSize, void *srcArg,
                                  void *dstArg) {
  const auto *src = static_cast<const UnrankedDescriptor *>(srcArg);
  const auto *dst = static_cast<const UnrankedDescriptor *>(dstArg);
  int64_t rank = src->rank;
  const int64_t *sizes = src->descriptor + 3;
  attnStridedCopy(elemSize, rank, sizes, sizes + rank,
                  dst->descriptor + 3 + rank,
                  reinterpret_cast<const char *>(src->descriptor[1]) +
                      src->descriptor[2] * elemSize,
                  reinterpret_cast<char *>(dst->descriptor[1]) +
                      dst->descriptor[2] * elemSize);
}
