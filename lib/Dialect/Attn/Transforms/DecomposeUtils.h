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

/// Emits the run-time checks of attn.pkm's dynamic dims (subkeys of H
/// heads and one n, `n` * `n` value rows, outs [B, H, N] as the query's);
/// returns the query's sizes.
SmallVector<OpFoldResult> assertPkmSizes(OpBuilder &b, Location loc, PkmOp op,
                                         int64_t n);

/// Whether attn.lightconv has what its decomposition and fused form need:
/// static C, Hc and K with C % Hc == 0, K >= 1, and odd K unless causal.
bool hasLightConvStaticShape(LightConvOp op);

/// Emits the run-time checks that attn.lightconv's outs and input agree in B
/// and N; returns the sizes of the input and of outs.
std::pair<SmallVector<OpFoldResult>, SmallVector<OpFoldResult>>
assertLightConvSizes(OpBuilder &b, Location loc, LightConvOp op);

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

/// `t` with every element converted to `type` (`t` itself when it already
/// has that element type).
Value toFloat(OpBuilder &b, Location loc, Value t, FloatType type);

/// `t` with every element converted to f32 (`t` itself when already f32).
Value toF32(OpBuilder &b, Location loc, Value t);

/// Rows of `x` [B, H, N, D] divided by their Euclidean norm, in x's float
/// element type; a zero row stays zero: `x / sqrt(sum_d x^2)`, or 0 where the
/// sum is 0.
Value normalizeRows(OpBuilder &b, Location loc, Value x);

/// Gathers rows: `out[b, g, m, f] = type(src[b, g / headDiv, pos[b, g, m], f])`
/// for `src` [B, Hs, Ns, F] and the i64 positions `pos` [B, G, M].
Value gatherRows(OpBuilder &b, Location loc, Value src, Value pos,
                 OpFoldResult headDiv, FloatType type);

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

/// The log-sum-exp combination of P partial results per query
/// (docs/Semantics.md §4 step 6), computed in `computeType`. `rows` [B, H, P,
/// N] (i64) names, for part p of query n, the row `g * M + u` of the attention
/// result `o` [B, G, M, Dv] and `lse` [B, G, M], or is negative when the query
/// has no such part. Writes `o(n) = sum_p exp(lse_p - LSE) o_p` (0 when every
/// lse_p is -inf) into `init` [B, H, N, Dv] in its element type. Linear in the
/// parts: one exp per part and query, then one pass over the rows of o.
Value combineByLse(OpBuilder &b, Location loc, Value rows, Value o, Value lse,
                   Value init, FloatType computeType);

/// Builds the modified score of a pair inside a linalg body: (score, qpos_i,
/// kpos_j as index) -> the new score, in the score's type.
using PairScoreFn =
    function_ref<Value(OpBuilder &, Location, Value, Value, Value)>;

/// Attention of the gathered `q` [B, G, M, D] over `k`, `v` with the original
/// positions `qpos`, `kpos`, the `#attn.causal<offset = causalOffset>` pattern
/// when `causal`, and the score_mod `scoreMod` when given: returns
/// (o [B, G, M, Dv], lse [B, G, M]),
/// both in `computeType`. With f32 this is an attn.sdpa (its score_mod a
/// region); attn.sdpa has no f64 form, so with f64 it is built directly as
/// linalg in f64 (the lowering attn-lower-to-linalg would give it).
/// `init`, when given (o's type; e.g. a buffer carried by a loop), is the
/// tensor that o is written into instead of a new one.
std::pair<Value, Value>
positionedAttention(OpBuilder &b, Location loc, Value q, Value k, Value v,
                    Value qpos, Value kpos, bool causal, FloatAttr scale,
                    FloatType computeType, PairScoreFn scoreMod = nullptr,
                    int64_t causalOffset = 0, Value init = nullptr);

/// Attention of `q` [B, H, Nq, D] over `k`, `v` (dense, no lse) written into
/// `init` [B, H, Nq, Dv]: an attn.sdpa when `computeType` is f32, else built
/// directly as linalg in `computeType` (see positionedAttention).
Value denseAttention(OpBuilder &b, Location loc, Value q, Value k, Value v,
                     Value init, FloatAttr scale, FloatType computeType);

/// The results (o [B, G, M, Dv], lse [B, G, M], in `computeType`) of the
/// attention that `build` creates over `q` [B, G, M, D] and `v`, or empty
/// tensors when there are no attention heads (G = 0: no hash rounds, chunks
/// or clusters): attn.sdpa needs H >= 1. A dynamic G is tested at run time
/// with scf.if. `oInit`, when given, is the o that `build` writes into; the
/// empty case returns it as o (so that both cases are that tensor).
std::pair<Value, Value>
attentionOrEmpty(OpBuilder &b, Location loc, Value q, Value v,
                 FloatType computeType,
                 function_ref<std::pair<Value, Value>(OpBuilder &)> build,
                 Value oInit = nullptr);

} // namespace detail
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_DECOMPOSEUTILS_H
