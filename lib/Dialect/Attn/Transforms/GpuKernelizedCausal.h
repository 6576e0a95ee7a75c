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

/// Replaces `op` by the chunked scan (general-path linalg.generic ops) with
/// chunks of `chunk` rows and groups of `group` chunks (both >= 1).
void buildGpuCausalFavor(OpBuilder &b, KernelizedOp op, int64_t chunk,
                         int64_t group);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_GPUKERNELIZEDCAUSAL_H
