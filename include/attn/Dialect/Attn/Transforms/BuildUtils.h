//===- BuildUtils.h - IR building helpers for attn lowerings ----*- C++ -*-===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_BUILDUTILS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_BUILDUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace attn {

/// Converts a scalar float to `type` (extf, truncf or nothing).
Value convertFloat(OpBuilder &b, Location loc, Value scalar, Type type);

/// Converts a scalar signless integer to i64 (sign-extending) or index to i64.
Value toI64(OpBuilder &b, Location loc, Value scalar);

/// The sizes of a ranked tensor (static ones as attributes).
SmallVector<OpFoldResult> getSizes(OpBuilder &b, Location loc, Value tensor);

/// `tensor.empty` of the given sizes.
Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType);

/// `tensor.empty` filled with a float constant.
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   Type elementType, double value);

/// An index value for a size.
Value toIndexValue(OpBuilder &b, Location loc, OpFoldResult size);

/// Returns `t` with dim `headDim` (of size Hkv) repeated to `numHeads` heads:
/// `out[..., h, ...] = t[..., h / (numHeads / Hkv), ...]` (grouped-query
/// attention). Returns `t` when the sizes are statically equal. Built from
/// linalg.broadcast and tensor.collapse_shape.
Value repeatHeads(OpBuilder &b, Location loc, Value t, unsigned headDim,
                  OpFoldResult numHeads);

/// Emits `cf.assert` that two sizes are equal when either is dynamic (a
/// static mismatch is a verifier error and never reaches here).
void assertEqualSizes(OpBuilder &b, Location loc, OpFoldResult a,
                      OpFoldResult c, const Twine &message);

/// Parallel / reduction iterator lists.
SmallVector<utils::IteratorType> parallelIterators(unsigned n);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_BUILDUTILS_H
