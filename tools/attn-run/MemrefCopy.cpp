//===- MemrefCopy.cpp - memref.copy for compiled code ---------------------===//
//
// A memref.copy that finalize-memref-to-llvm cannot prove contiguous (a
// dynamic size, or a strided layout) becomes a call of `memrefCopy`. MLIR's
// C runner utils copy there one element at a time (a memcpy of 4 bytes per
// f32); the flash core's output tiles (dynamic rows) go through it. This one
// copies the innermost dims that are contiguous in both memrefs as one
// memcpy per run, the rest one run at a time.
//
//===----------------------------------------------------------------------===//
#include "RuntimeHooks.h"

#include <cstring>

namespace {
/// The C interface's unranked memref: rank and a pointer to the ranked
/// descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}.
struct UnrankedDescriptor {
  int64_t rank;
  const int64_t *descriptor;
};
} // namespace

/// The most dims after size-1 dims are dropped (the odometer's arrays).
static constexpr int kMaxRank = 16;

void attn_run::attnRunMemrefCopy(int64_t elemSize, void *srcArg, void *dstArg) {
  const auto *src = static_cast<const UnrankedDescriptor *>(srcArg);
  const auto *dst = static_cast<const UnrankedDescriptor *>(dstArg);
  int64_t rank = src->rank;
  const int64_t *srcSizes = src->descriptor + 3;
  const int64_t *srcStrides = srcSizes + rank;
  const int64_t *dstStrides = dst->descriptor + 3 + rank;
  const char *srcBase = reinterpret_cast<const char *>(src->descriptor[1]) +
                        src->descriptor[2] * elemSize;
  char *dstBase = reinterpret_cast<char *>(dst->descriptor[1]) +
                  dst->descriptor[2] * elemSize;
  // The dims of size > 1, outermost first.
  int64_t sizes[kMaxRank], sStr[kMaxRank], dStr[kMaxRank];
  int n = 0;
  for (int64_t d = 0; d < rank; ++d) {
    if (srcSizes[d] == 0)
      return;
    if (srcSizes[d] == 1)
      continue;
    if (n == kMaxRank)
      __builtin_trap();
    sizes[n] = srcSizes[d];
    sStr[n] = srcStrides[d];
    dStr[n] = dstStrides[d];
    ++n;
  }
  // The innermost dims contiguous in both: one run of `run` elements.
  int64_t run = 1;
  while (n > 0 && sStr[n - 1] == run && dStr[n - 1] == run) {
    run *= sizes[n - 1];
    --n;
  }
  size_t runBytes = size_t(run * elemSize);
  int64_t index[kMaxRank] = {0};
  int64_t srcOffset = 0, dstOffset = 0;
  while (true) {
    std::memcpy(dstBase + dstOffset * elemSize, srcBase + srcOffset * elemSize,
                runBytes);
    int d = n - 1;
    for (; d >= 0; --d) {
      srcOffset += sStr[d];
      dstOffset += dStr[d];
      if (++index[d] < sizes[d])
        break;
      srcOffset -= sStr[d] * sizes[d];
      dstOffset -= dStr[d] * sizes[d];
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}
