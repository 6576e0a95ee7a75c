//===- Decompositions.h - non-core attn ops into sdpa + linalg --*- C++ -*-===//
//
// One function per non-core op. Each builds, at the builder's insertion point,
// IR equivalent to the op (docs/Semantics.md) and returns one value per result
// of the op; on failure it has emitted a diagnostic on the op. The functions
// back the `linalg::AggregatedOpInterface` external models that
// `attn-decompose` and `transform.structured.decompose_interface` use.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_DECOMPOSITIONS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_DECOMPOSITIONS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace attn {

FailureOr<SmallVector<Value>> decomposeLsh(OpBuilder &b, LshOp op);
FailureOr<SmallVector<Value>> decomposeCluster(OpBuilder &b, ClusterOp op);
FailureOr<SmallVector<Value>> decomposeLowRank(OpBuilder &b, LowRankOp op);
FailureOr<SmallVector<Value>> decomposeKernelized(OpBuilder &b,
                                                  KernelizedOp op);
FailureOr<SmallVector<Value>> decomposePkm(OpBuilder &b, PkmOp op);
FailureOr<SmallVector<Value>> decomposeLightConv(OpBuilder &b,
                                                 LightConvOp op);

/// Lowers one attn.sdpa to linalg (the reference path); `computeType` is f32
/// or f64. Returns the replacement values (result, and lse when present).
FailureOr<SmallVector<Value>> lowerSdpaToLinalg(OpBuilder &b, SdpaOp op,
                                                FloatType computeType);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_DECOMPOSITIONS_H
