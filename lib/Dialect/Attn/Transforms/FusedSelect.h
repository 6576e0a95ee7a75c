//===- FusedSelect.h - linear-time sorts of the fused lsh / cluster -*- C++ -*-===//
//
// The discrete choices of attn.lsh and attn.cluster in linear time, for the
// fused pipeline (attn-fuse-lsh-cluster). The reference decompositions rank
// every position against every other one (O(N^2) per round or cluster,
// obviously correct); these give the same choices in O(N) per row:
//
// - a stable counting sort of the LSH buckets (num_buckets bins);
// - the top w of each cluster by a 4-pass radix select on the scores'
//   order-preserving 32-bit keys, its members then listed in position order.
//
// Both are an scf.forall over the rows, each row scf.for loops on tensors
// (in place after bufferization; OpenMP-parallel in the fused pipeline).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEDSELECT_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEDSELECT_H

#include "mlir/IR/Builders.h"

#include <utility>

namespace mlir {
namespace attn {
namespace detail {

/// The stable sort of every row of `buckets` [B, H, R, N] (i64, in
/// [0, numBuckets); values outside are clamped) by (bucket, position):
/// returns (slot [B, H, R, N], perm [B, H, R, N]), both i64, with
/// `perm[.., slot[.., n]] == n` (the same as the reference's rank and
/// positions-by-rank of docs/Semantics.md §4 step 3).
std::pair<Value, Value> countingSortSlots(OpBuilder &b, Location loc,
                                          Value buckets, int64_t numBuckets);

/// The top `window` positions of every row of `scores` [B, H, C, N] (f32) by
/// decreasing score, ties to the smaller position (docs/Semantics.md §5),
/// listed in increasing position: returns (members [B, H, C, window],
/// slot [B, H, C, N]), both i64, where `slot` is the index of the position in
/// `members`, or `window` for a position that is not a member. -0 equals +0;
/// any f32 bits (NaN included) give exactly `window` members in [0, N).
/// Requires 1 <= window <= N.
std::pair<Value, Value> topWindowMembers(OpBuilder &b, Location loc,
                                         Value scores, int64_t window);

/// combineByLse (DecomposeUtils.h) for the fused pipeline: an scf.forall
/// over (batch, head, block of 64 queries) that reads, per query, the P
/// parts' lse values (one max, one exp per part), then sums the parts' rows
/// of `o` as whole f32 vectors into a new result tensor (the values of
/// `init` are not read). Null where it does not apply (f32 o, lse, init and
/// compute type, static Dv a multiple of 16, no static size 0); the caller
/// then uses combineByLse.
Value fusedCombineByLse(OpBuilder &b, Location loc, Value rows, Value o,
                        Value lse, Value init, FloatType computeType);

} // namespace detail
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEDSELECT_H
