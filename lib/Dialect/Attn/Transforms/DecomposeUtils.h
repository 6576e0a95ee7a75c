//===- DecomposeUtils.h - shared gather decomposition helpers -*- C++ -*-===//
//
// Internal helpers of the decompositions that gather rows into an attn.sdpa
// with remapped positions and combine its partial results by log-sum-exp
// (attn.lsh, attn.cluster). Generic IR building lives in BuildUtils.h.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_DECOMPOSEUTILS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_DECOMPOSEUTILS_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include <utility>

namespace mlir {
namespace attn {
namespace detail {

/// `x * y` on sizes, folded when both are static.
OpFoldResult mulSizes(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);

/// `x / y` (unsigned) on sizes, folded when both are static; `y` is >= 1.
OpFoldResult divSizes(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);

/// An index `arith.constant`.
Value indexConst(OpBuilder &b, Location loc, int64_t value);

/// `max(size, 1)` as an index value: a divisor that is never zero (where the
/// size is 0 the loops that divide by it run no iteration, but a division by
/// a constant zero would still be undefined behaviour for LLVM).
Value safeDivisor(OpBuilder &b, Location loc, OpFoldResult size);

/// Iterators: `numParallel` parallel ones, then `numReduction` reductions.
SmallVector<utils::IteratorType> reductionAfter(unsigned numParallel,
                                                unsigned numReduction = 1);

/// The `linalg.index` values of loop dims 0 .. n-1 (inside a generic body).
SmallVector<Value> loopIndices(OpBuilder &b, Location loc, unsigned n);

/// `cf.assert(cond)` with `message` when `cond` is not statically true.
void assertTrue(OpBuilder &b, Location loc, Value cond, const Twine &message);

/// `t` with every element converted to f32 (`t` itself when already f32).
Value toF32(OpBuilder &b, Location loc, Value t);

/// Rows of `x` [B, H, N, D] (f32) divided by their Euclidean norm; a zero row
/// stays zero: `x / sqrt(sum_d x^2)`, or 0 where the sum is 0.
Value normalizeRows(OpBuilder &b, Location loc, Value x);

/// Gathers rows: `out[b, g, m, f] = f32(src[b, g / headDiv, pos[b, g, m], f])`
/// for `src` [B, Hs, Ns, F] and the i64 positions `pos` [B, G, M].
Value gatherRows(OpBuilder &b, Location loc, Value src, Value pos,
                 OpFoldResult headDiv);

/// Compares two keys inside a generic body: returns (`other` orders before
/// `self`, `other` equals `self`) as i1 values.
using KeyCompareFn =
    function_ref<std::pair<Value, Value>(OpBuilder &, Location, Value, Value)>;

/// The rank of every position in the order of `keys` [B, H, R, N] that
/// `compare` defines, ties to the smaller position (i64):
/// `rank[b, h, r, n] = #{n' : key(n') before key(n), or equal and n' < n}`.
Value rankPositions(OpBuilder &b, Location loc, Value keys,
                    KeyCompareFn compare);

/// The positions in rank order: `pos[b, h, r, t]` = the n with
/// `rank[b, h, r, n] == t`, for t < `count` (N when `count` is null; i64).
/// Taking the maximum keeps every value in [0, N) even where ranks are not a
/// permutation.
Value positionsByRank(OpBuilder &b, Location loc, Value rank,
                      OpFoldResult count = {});

/// The log-sum-exp combination of P partial results per query (docs/Semantics.md §4
/// step 6). `rows` [B, H, P, N] (i64) names, for part p of query n, the row
/// `g * M + u` of the sdpa result `o` [B, G, M, Dv] and `lse` [B, G, M], or is
/// negative when the query has no such part. Writes
/// `o(n) = sum_p exp(lse_p - LSE) o_p` (0 when every lse_p is -inf) into
/// `init` [B, H, N, Dv] in its element type.
Value combineByLse(OpBuilder &b, Location loc, Value rows, Value o, Value lse,
                   int64_t m, Value init);

/// The attn.sdpa over gathered `q` [B, G, M, D], `k`, `v` with the original
/// positions `qpos`, `kpos`, the `#attn.causal` pattern when `causal`, an f32
/// result [B, G, M, Dv] and an lse result [B, G, M] (no score_mod).
SdpaOp buildPositionedSdpa(OpBuilder &b, Location loc, Value q, Value k,
                           Value v, Value qpos, Value kpos, bool causal,
                           FloatAttr scale);

/// The results (o [B, G, M, Dv], lse [B, G, M]) of the sdpa that `build`
/// creates over `q` [B, G, M, D] and `v`, or empty tensors when there are no
/// sdpa heads (G = 0: no hash rounds, chunks or clusters): attn.sdpa needs
/// H >= 1. A dynamic G is tested at run time with scf.if.
std::pair<Value, Value> sdpaOrEmpty(OpBuilder &b, Location loc, Value q,
                                    Value v,
                                    function_ref<SdpaOp(OpBuilder &)> build);

} // namespace detail
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_DECOMPOSEUTILS_H
