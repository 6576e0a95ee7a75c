//===- BuildUtils.h - IR building helpers for attn lowerings ----*- C++ -*-===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_BUILDUTILS_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_BUILDUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
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

/// An operand whose dim 0 is a head dim of size `heads` or 1, prepared for
/// reading by head: `shared` when it has one head (read by every head; map
/// dim 0 to the constant 0), else a tensor whose dim 0 is the head.
struct HeadOperand {
  Value tensor;
  bool shared;
};

/// Prepares `t` (dim 0 of size `heads` or 1). When dim 0 is dynamic, which of
/// the two it is is only known at run time: `t` is then copied to `heads`
/// heads as `t[dim0 == 1 ? 0 : g]` after a `cf.assert` (with `message`) that
/// it is one of the two. A static dim 0 other than 1 is asserted equal to
/// `heads` when that is dynamic.
HeadOperand selectHeads(OpBuilder &b, Location loc, Value t, OpFoldResult heads,
                        const Twine &message);

/// Emits `cf.assert` that two sizes are equal when either is dynamic (a
/// static mismatch is a verifier error and never reaches here).
void assertEqualSizes(OpBuilder &b, Location loc, OpFoldResult a,
                      OpFoldResult c, const Twine &message);

/// Emits the run-time checks of the shape rules every q, k, v attention op
/// shares (`verifyQueryKeyValue`) for the dims that are dynamic: B, Hkv and
/// Nk agree across q, k, v; outs is [B, H, Nq, .]; Hkv > 0 divides H.
/// Messages read "<opName>: <what>".
void assertQueryKeyValueSizes(OpBuilder &b, Location loc, StringRef opName,
                              Value q, Value k, Value v, Value init);

/// Scalar `den == 0 ? 0 : num / den` (a normaliser of zero gives zero, never
/// NaN).
Value divideOrZero(OpBuilder &b, Location loc, Value num, Value den);

/// Scalar `max == -inf ? 0 : max`: the shift of a softmax whose row maximum
/// may be -inf (an empty row), so that `exp(x - shift)` stays defined.
Value softmaxShift(OpBuilder &b, Location loc, Value max);

/// Parallel / reduction iterator lists.
SmallVector<utils::IteratorType> parallelIterators(unsigned n);

/// Terminates a linalg.generic body with one value.
void yieldOne(OpBuilder &b, Location loc, Value v);

/// Builds the one-output linalg.generic ops of a lowering: affine maps over
/// `numDims` loop dims written as lists of dim positions.
struct GenericBuilder {
  using BodyFn = function_ref<void(OpBuilder &, Location, ValueRange)>;

  OpBuilder &b;
  Location loc;

  AffineExpr d(unsigned i) { return b.getAffineDimExpr(i); }
  AffineMap map(unsigned numDims, ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(numDims, 0, exprs, b.getContext());
  }
  /// The projection of `numDims` loop dims onto `positions`.
  AffineMap dims(unsigned numDims, ArrayRef<unsigned> positions);
  /// Parallel iterators except the listed reduction dims.
  SmallVector<utils::IteratorType> iterators(unsigned n,
                                             ArrayRef<unsigned> reductions);
  /// A linalg.generic writing `init`; returns its result.
  Value generic(ValueRange inputs, Value init, ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> its, BodyFn body);
  /// A tensor of the given sizes filled with an integer or float constant.
  Value filled(ArrayRef<OpFoldResult> sizes, Type type, double value);
  Value f32Const(OpBuilder &nb, Location nl, double v) {
    return arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(v));
  }
};

/// Returns the float type that a pass's `compute-type` option names (f32 or
/// f64), or emits an error on `op` naming `pass` and fails.
FailureOr<FloatType> parseComputeType(Operation *op, StringRef pass,
                                      StringRef computeType);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_BUILDUTILS_H
