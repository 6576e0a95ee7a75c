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

/// The buckets of attn.lsh (docs/Semantics.md §4 step 2) for the fused
/// pipeline: `bucket[b, h, r, n] = argmax([x ; -x])`, `x = qk[b, h, n]
/// rot[h, r]`, first maximum on ties (i64 [B, H, R, N]). An scf.forall over
/// (batch, head, round, block of 64 positions): the block's projections as
/// one micro-kernel contraction, then per position the argmax on K-lane
/// vectors. Null where it does not apply (f32 qk and rotations, static D and
/// K = num_buckets / 2, both nonzero).
Value fusedBuckets(OpBuilder &b, Location loc, Value qk, Value rotations);

/// gatherRows (DecomposeUtils.h) of several sources at the same positions,
/// in f32, for the fused pipeline: one scf.forall over (batch, group) that
/// copies each row as one vector. `out_s[b, g, m] = f32(srcs_s[b, g /
/// headDiv, pos[b, g, m]])`. Empty where it does not apply (float sources
/// of at most 32 bits with a static nonzero row length).
SmallVector<Value> fusedGatherRows(OpBuilder &b, Location loc, ValueRange srcs,
                                   Value pos, OpFoldResult headDiv);

/// The chunks of attn.lsh (DecomposeLsh.cpp) for the fused pipeline, from
/// the slots `slot` [B, H, R, N] (i64) of countingSortSlots: returns (q [B, G, c, D],
/// k [B, G, W c, D], v [B, G, W c, Dv]), f32, G = H R nC, where group
/// (h R + r) nC + ch holds the qk rows of its chunk's slots as queries and
/// the normalised qk rows and v rows of the chunks (ch + w - look_back) mod
/// nC, w < W, as keys. One scf.forall over (batch, head, round); each
/// iteration walks the positions in order, reads each source row once (as
/// one vector) and writes it to its slot in the W groups that see it.
/// Empty where it does not apply (f32 qk, float v of at most 32 bits, static
/// nonzero D and Dv, no static size 0 in slot). `dests` (q, k, v tensors of the result types,
/// e.g. buffers carried by a loop) are written instead of new tensors when
/// their types match.
SmallVector<Value> fusedLshChunks(OpBuilder &b, Location loc, Value qk,
                                  Value v, Value slot, int64_t chunk,
                                  OpFoldResult numChunks, OpFoldResult window,
                                  Value lookBackMod, ValueRange dests = {});

/// A part of every query that the combine adds to the P parts of `rows`:
/// query n's row of `values` [B, H, N, Dv] (f32) with the log-normaliser
/// `score + log(P)`, i.e. one key of score `score` seen once per part (the
/// own key of attn.lsh, seen once per round).
struct SelfPart {
  Value values;
  double score = 0.0;
};

/// Whether fusedCombineByLse applies to results of `computeType` [.., Dv]
/// written into `init`, given whether some size of o, lse, rows or init is
/// statically 0: f32 compute and init, static Dv a multiple of 16.
bool fusedCombineApplies(FloatType computeType, Type initElement, int64_t dv,
                         bool zeroSize);

/// combineByLse (DecomposeUtils.h) for the fused pipeline: an scf.forall
/// over (batch, head, block of 64 queries) that reads, per query, the P
/// parts' lse values (one max, one exp per part), then sums the parts' rows
/// of `o` as whole f32 vectors into a new result tensor (the values of
/// `init` are not read), with `self` (when its values are given) as one
/// more part. Null where it does not apply (fusedCombineApplies); the caller
/// then uses combineByLse.
Value fusedCombineByLse(OpBuilder &b, Location loc, Value rows, Value o,
                        Value lse, Value init, FloatType computeType,
                        const SelfPart &self = {});

} // namespace detail
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_FUSEDSELECT_H
