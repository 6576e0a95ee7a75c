//===- Decompositions.h - non-core attn ops into sdpa + linalg --*- C++ -*-===//
//
// One function per non-core op. Each builds, at the builder's insertion point,
// IR equivalent to the op (docs/Semantics.md) and returns one value per result
// of the op; on failure it has emitted a diagnostic on the op. The functions
// back the `linalg::AggregatedOpInterface` external models that
// `attn-decompose` and `transform.structured.decompose_interface` use.
//
// `computeType` (f32 or f64) is the element type of every value that the
// decomposition computes (scores, features, softmax statistics, sums); the
// discrete choices (LSH buckets, cluster members, top-k sets) are made in
// f32 either way, so both see the same choices. With f32 the attention
// inside lsh, cluster and lowrank is an attn.sdpa; attn.sdpa computes on
// f32, f16 and bf16 only, so with f64 it is built directly as the linalg of
// attn-lower-to-linalg{compute-type=f64}.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_DECOMPOSITIONS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_DECOMPOSITIONS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace attn {

/// With `fused`, lsh and cluster make their discrete choices in linear time
/// (FusedSelect.h) instead of the reference's all-pairs ranks: the same
/// choices, for attn-fuse-lsh-cluster.
FailureOr<SmallVector<Value>> decomposeLsh(OpBuilder &b, LshOp op,
                                           FloatType computeType,
                                           bool fused = false);
FailureOr<SmallVector<Value>> decomposeCluster(OpBuilder &b, ClusterOp op,
                                               FloatType computeType,
                                               bool fused = false);
/// Builds one projection of attn.lowrank, `out[b, g, r, c] = sum_n
/// p[g or 0, r, n] x[b, g, n, c]` in the compute type, or returns null to
/// have the default (one linalg.generic) built.
using LowRankProjectFn =
    function_ref<Value(OpBuilder &, Location, HeadOperand, Value, FloatType)>;
FailureOr<SmallVector<Value>> decomposeLowRank(OpBuilder &b, LowRankOp op,
                                               FloatType computeType,
                                               LowRankProjectFn project = {});
FailureOr<SmallVector<Value>> decomposeKernelized(OpBuilder &b, KernelizedOp op,
                                                  FloatType computeType);
FailureOr<SmallVector<Value>> decomposePkm(OpBuilder &b, PkmOp op,
                                           FloatType computeType);
FailureOr<SmallVector<Value>> decomposeLightConv(OpBuilder &b, LightConvOp op,
                                                 FloatType computeType);
/// The kernel of attn.lightconv as its decomposition uses it: the weights
/// [Hc, K], softmaxed over K in `computeType` when the op normalizes.
Value lightConvWeights(OpBuilder &b, LightConvOp op, FloatType computeType);

/// Decomposes `op` with the function above for its kind; fails (with a
/// diagnostic) on an op that has none.
FailureOr<SmallVector<Value>> decomposeAttnOp(OpBuilder &b, Operation *op,
                                              FloatType computeType);

/// Lowers one attn.sdpa to linalg (the reference path); `computeType` is f32
/// or f64. Returns the replacement values (result, and lse when present).
FailureOr<SmallVector<Value>> lowerSdpaToLinalg(OpBuilder &b, SdpaOp op,
                                                FloatType computeType);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_DECOMPOSITIONS_H
