//===- TileUtils.h - The per-tile steps of the flash form -------*- C++ -*-===//
//
// The target-independent pieces of `attn-tile` that do not depend on
// attn.sdpa's operands: the score contraction of a (query tile, key tile)
// pair, one step of the online softmax, and the normalisation at the end.
// Tiles are tensor values with dynamic row and column counts; the two
// contractions are linalg ops, the rest linalg.generic, so that later steps
// (vectorization, GPU mapping) can take them as they are.
//
// Scores are in the log2 domain (`s * log2(e)`), so every exponential is an
// `exp2`; the statistics are in the compute type (f32 or f64).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEUTILS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEUTILS_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace attn {
namespace tile {

/// The running statistics of one query tile of R rows: the row maximum of
/// the scores seen so far `max` [R] (-inf while none is live), the sum of
/// `exp2(s - max)` `sum` [R] and the accumulator `acc` [R, Dv] of
/// `exp2(s - max) v`, all in the compute type.
struct RowState {
  Value max, sum, acc;
};

/// Returns the state before any key: max = -inf, sum = 0, acc = 0.
RowState buildInitialState(OpBuilder &b, Location loc, OpFoldResult rows,
                           int64_t valueDim, FloatType computeType);

/// Returns `[R, C]` scores `sum_d queries[r, d] keys[c, d]` in the compute
/// type (a transposed-B linalg.matmul); `queries` is `[R, D]` in the compute
/// type, `keys` `[C, D]` in any float type.
Value buildScoreTile(OpBuilder &b, Location loc, Value queries, Value keys,
                     FloatType computeType);

/// One step of the online softmax over a key tile of C keys:
///
///   max'  = max(max, max_c s)          (NaN-propagating)
///   shift = max' == -inf ? 0 : max'    (an empty row stays defined)
///   alpha = exp2(max - shift)
///   p     = exp2(s - shift) [* weight]
///   sum'  = alpha sum + sum_c p
///   acc'  = alpha acc + sum_c [live ?] p v
///
/// `scores` is `[R, C]` in the log2 domain with -inf at pairs that are not
/// live, so their `p` is exp2(-inf) = 0 without a select. `weight` (`[R, C]`,
/// the span weight) is optional. With `buildLive` (a Partial tile), the value
/// contraction is a linalg.matmul only when every value of the tile is
/// finite (checked at run time); otherwise `buildLive` builds the `[R, C]`
/// i1 liveness and the contraction selects, so that a NaN or infinity in a
/// value of a pair that is not live never reaches the row as `0 * inf`.
/// Values of another element type than the compute type always select (the
/// CPU's bf16 kernels would round `p` to bf16 in a plain matmul).
/// `values` is `[C, Dv]`. The new state is written into the old one (its
/// tensors are the destinations), so a loop that carries it yields values
/// equivalent to its iteration arguments and bufferizes in place.
RowState buildSoftmaxStep(OpBuilder &b, Location loc, const RowState &state,
                          Value scores, Value weight, Value values,
                          function_ref<Value()> buildLive = nullptr);

/// Returns `[R, Dv]` `sum == 0 ? 0 : acc / sum` in the element type of
/// `init`, written into `init` (its destination, whose values are not read).
Value buildNormalizedOutput(OpBuilder &b, Location loc, const RowState &state,
                            Value init);

/// Returns `[R]` the natural log-sum-exp `(shift + log2(sum)) * ln(2)` in
/// the element type of `init` (its destination, not read): -inf for a row
/// with no live key.
Value buildLogSumExp(OpBuilder &b, Location loc, const RowState &state,
                     Value init);

} // namespace tile
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEUTILS_H
