//===- GpuKernelizedCausal.h - causal FAVOR+ as a chunked scan -*- C++ -*-===//
//
// The causal step of attn-gpu-kernelized-as-sdpa (GpuKernelizedCausal.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUKERNELIZEDCAUSAL_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUKERNELIZEDCAUSAL_H

#include "attn/Dialect/Attn/IR/AttnOps.h"

namespace mlir {
namespace attn {

/// The shape both FAVOR+ rewrites take (GpuKernelizedAsSdpa.cpp): favor_plus
/// with a projection, q, k, v of one element type bf16 or f16, D = Dv = 64 or
/// 128, static H (not 0), Hkv and projection head dim.
bool isGpuFavorShape(KernelizedOp op);

/// Whether the chunked scan takes `op`: favor_plus, causal, bf16 / f16,
/// D = Dv = 64 or 128, static H, Hkv, projection head dim and m.
bool isGpuCausalFavorTaken(KernelizedOp op);

/// Whether the scan's matrix products can go to mma.sync (GpuMmaGemm.h):
/// `chunk` and m multiples of 16, W of q's element type.
bool isGpuCausalFavorMmaShape(KernelizedOp op, int64_t chunk);

/// Replaces `op` by the chunked scan with chunks of `chunk` rows and groups
/// of `group` chunks (both >= 1). `mma`: "launch" puts the matrix products
/// (features, chunk states, scores within a chunk, both numerator terms) on
/// mma.sync kernels named `name`_i, "generic" builds the same products as
/// linalg.generic ops (the CPU runs them), "off" (or a shape
/// isGpuCausalFavorMmaShape rejects) keeps the scalar scan of 14
/// general-path generics. `prefix` (the mma paths' exclusive prefix of the
/// chunk states): "scan" one sequential pass over the chunks per state
/// element (with "launch" a kernel `name`_scan), "levels" the two levels of
/// groups of `group` chunks (general-path generics).
void buildGpuCausalFavor(OpBuilder &b, KernelizedOp op, int64_t chunk,
                         int64_t group, StringRef mma, StringRef prefix,
                         StringRef name);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUKERNELIZEDCAUSAL_H
