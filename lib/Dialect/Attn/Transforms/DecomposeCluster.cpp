//===- DecomposeCluster.cpp - decomposition of attn.cluster
//----------------===//
//
// attn.cluster (Routing Transformer, docs/Semantics.md §5) as gather -> attn.sdpa
// per cluster with remapped positions -> scatter and log-sum-exp combine. Per
// batch b, query head h (KV head g = h / (H / Hkv)) and cluster c (choices in
// f32, the attention and the combination in the compute type: f32, or f64 for
// the oracle of attn-run --check):
//
//   q^_i = q_i / ||q_i||,  k^_j = k_j / ||k_j||       (0 for a zero row)
//   rq_c(i) = #{i' : <q^_i', mu_c> > <q^_i, mu_c>, or equal and i' < i}
//   rk_c(j) = the same over the keys of KV head g
//
// A query is in cluster c iff rq_c(i) < w, in slot rq_c(i) (the top w, ties
// to the smaller position); likewise the keys. Cluster c of head h becomes
// sdpa head h C + c over [w, D] queries and [w, D] keys, with the original
// positions (so `#attn.causal` is j <= i) and an lse result. A query's
// clusters combine by log-sum-exp; a query in no cluster, or with no live
// key, gives 0:
//
//   LSE(i) = log sum_{c : rq_c(i) < w} exp(lse_c(i)),
//   o(i)   = sum_{c : rq_c(i) < w} exp(lse_c(i) - LSE(i)) o_c(i).
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "FusedSelect.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

//===----------------------------------------------------------------------===//
// Cluster membership
//===----------------------------------------------------------------------===//

/// `score[b, h, c, n] = sum_d x[b, h, n, d] mu[h, c, d]` (f32).
static Value centroidScores(OpBuilder &b, Location loc, Value x, Value mu) {
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> xs = getSizes(b, loc, x), ms = getSizes(b, loc, mu);
  Value init =
      filledTensor(b, loc, {xs[0], xs[1], ms[1], xs[2]}, b.getF32Type(), 0.0);
  // Loops (b, h, c, n, d).
  return g.generic(
      ValueRange{x, mu}, init,
      {g.dims(5, {0, 1, 3, 4}), g.dims(5, {1, 2, 4}), g.dims(5, {0, 1, 2, 3})},
      reductionAfter(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
        yieldOne(nb, l, arith::AddFOp::create(nb, l, a[2], p));
      });
}

/// The rank of every position in the order by decreasing score, ties to the
/// smaller position: `rank[b, h, c, n] = #{n' : s(n') > s(n), or
/// s(n') == s(n) and n' < n}` (i64).
static Value ranks(OpBuilder &b, Location loc, Value score) {
  return rankPositions(
      b, loc, score, [](OpBuilder &nb, Location l, Value other, Value self) {
        Value higher = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT,
                                             other, self);
        Value same = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                           other, self);
        return std::make_pair(higher, same);
      });
}

/// The members of each cluster in rank order: `top[b, h, c, t]` = the n with
/// `rank[b, h, c, n] == t`, for t < w (in [0, N) even where ranks are not a
/// permutation: NaN scores).
static Value topPositions(OpBuilder &b, Location loc, Value rank,
                          int64_t window) {
  return positionsByRank(b, loc, rank, b.getIndexAttr(window));
}

/// [B, H, C, w] -> [B, H * C, w]: cluster c of head h is sdpa head h C + c.
static Value mergeHeadsAndClusters(OpBuilder &b, Location loc, Value t) {
  SmallVector<ReassociationIndices> reassoc = {{0}, {1, 2}, {3}};
  return tensor::CollapseShapeOp::create(b, loc, t, reassoc);
}

/// `rows[b, h, c, i] = (h C + c) w + rank` if `rank[b, h, c, i] < w`, else -1:
/// the row of query i in the result of cluster c.
static Value resultRows(OpBuilder &b, Location loc, Value rank,
                        int64_t window) {
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, rank);
  Value clusters = toI64(b, loc, toIndexValue(b, loc, sizes[2]));
  AffineMap id = b.getMultiDimIdentityMap(4);
  return g.generic(
      rank, emptyTensor(b, loc, sizes, b.getI64Type()), {id, id},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Type i64 = nb.getI64Type();
        Value w = arith::ConstantIntOp::create(nb, l, i64, window);
        Value h = toI64(nb, l, linalg::IndexOp::create(nb, l, 1));
        Value c = toI64(nb, l, linalg::IndexOp::create(nb, l, 2));
        Value group = arith::AddIOp::create(
            nb, l, arith::MulIOp::create(nb, l, h, clusters), c);
        Value row = arith::AddIOp::create(
            nb, l, arith::MulIOp::create(nb, l, group, w), a[0]);
        Value member =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, a[0], w);
        Value none = arith::ConstantIntOp::create(nb, l, i64, -1);
        yieldOne(nb, l, arith::SelectOp::create(nb, l, member, row, none));
      });
}

//===----------------------------------------------------------------------===//
// decomposeCluster
//===----------------------------------------------------------------------===//

/// `cf.assert(a <= c)` when either size is dynamic.
static void assertAtMost(OpBuilder &b, Location loc, OpFoldResult a,
                         OpFoldResult c, const Twine &message) {
  if (getConstantIntValue(a) && getConstantIntValue(c))
    return;
  Value le =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                            toIndexValue(b, loc, a), toIndexValue(b, loc, c));
  assertTrue(b, loc, le, message);
}

/// Emits the run-time checks of the sizes that the verifier could not see.
static void emitRuntimeChecks(OpBuilder &b, Location loc, ClusterOp op) {
  auto sizes = [&](Value v) { return getSizes(b, loc, v); };
  SmallVector<OpFoldResult> q = sizes(op.getQuery()), k = sizes(op.getKey()),
                            mu = sizes(op.getCentroids());
  std::string name = "attn.cluster: ";
  assertQueryKeyValueSizes(b, loc, "attn.cluster", op.getQuery(), op.getKey(),
                           op.getValue(), op.getInit());
  assertEqualSizes(b, loc, mu[0], q[1], name + "H of centroids differs");
  assertEqualSizes(b, loc, mu[2], q[3], name + "D of centroids differs");
  OpFoldResult window = b.getIndexAttr(op.getWindowAttr().getInt());
  assertAtMost(b, loc, window, q[2], name + "window > Nq");
  assertAtMost(b, loc, window, k[2], name + "window > Nk");
  if (op.getCausal())
    assertEqualSizes(b, loc, q[2], k[2], name + "causal needs Nq == Nk");
}

FailureOr<SmallVector<Value>>
mlir::attn::decomposeCluster(OpBuilder &b, ClusterOp op, FloatType ct,
                             bool fused) {
  Location loc = op.getLoc();
  int64_t window = op.getWindowAttr().getInt();
  if (window < 1)
    return op.emitOpError("cannot be decomposed with window < 1");
  emitRuntimeChecks(b, loc, op);

  // Membership (f32): per cluster, the rank of every query and key.
  Value q = toF32(b, loc, op.getQuery());
  Value k = toF32(b, loc, op.getKey());
  Value mu = toF32(b, loc, op.getCentroids());
  OpFoldResult numHeads = getSizes(b, loc, q)[1];
  Value keyDirs = repeatHeads(b, loc, normalizeRows(b, loc, k), 1, numHeads);
  Value queryScores =
      centroidScores(b, loc, normalizeRows(b, loc, q), mu);

  // The top w of each cluster, in the compute type: [B, H * C, w, D]. The
  // reference ranks every position (members in rank order); fused, a radix
  // select lists them in position order and gives non-members the slot w.
  Value queryRank, qpos, kpos;
  if (fused) {
    auto [queryTop, slots] = topWindowMembers(b, loc, queryScores, window);
    Value keyTop =
        topWindowMembers(b, loc, centroidScores(b, loc, keyDirs, mu), window)
            .first;
    queryRank = slots;
    qpos = mergeHeadsAndClusters(b, loc, queryTop);
    kpos = mergeHeadsAndClusters(b, loc, keyTop);
  } else {
    queryRank = ranks(b, loc, queryScores);
    Value keyRank = ranks(b, loc, centroidScores(b, loc, keyDirs, mu));
    qpos = mergeHeadsAndClusters(b, loc,
                                 topPositions(b, loc, queryRank, window));
    kpos = mergeHeadsAndClusters(b, loc, topPositions(b, loc, keyRank, window));
  }
  OpFoldResult numClusters = getSizes(b, loc, mu)[1];
  OpFoldResult numKvHeads = getSizes(b, loc, k)[1];
  // sdpa head h C + c reads query head h and KV head h / (H / Hkv).
  OpFoldResult group = divSizes(b, loc, numHeads, numKvHeads);
  OpFoldResult perKvHead = mulSizes(b, loc, numClusters, group);
  // Fused: whole-vector row copies (FusedSelect.h).
  SmallVector<Value> gathered, gatheredKV;
  if (fused && ct.isF32()) {
    gathered = fusedGatherRows(b, loc, q, qpos, numClusters);
    gatheredKV =
        fusedGatherRows(b, loc, {k, op.getValue()}, kpos, perKvHead);
  }
  if (gathered.empty())
    gathered = {gatherRows(b, loc, q, qpos, numClusters, ct)};
  if (gatheredKV.empty())
    gatheredKV = {gatherRows(b, loc, k, kpos, perKvHead, ct),
                  gatherRows(b, loc, op.getValue(), kpos, perKvHead, ct)};
  Value clusterQ = gathered[0], clusterK = gatheredKV[0],
        clusterV = gatheredKV[1];

  auto [o, lse] =
      attentionOrEmpty(b, loc, clusterQ, clusterV, ct, [&](OpBuilder &nb) {
        return positionedAttention(nb, loc, clusterQ, clusterK, clusterV, qpos,
                                   kpos, op.getCausal(), op.getScaleAttr(), ct);
      });

  // Scatter back through the ranks and combine the clusters.
  Value rows = resultRows(b, loc, queryRank, window);
  Value result =
      fused ? fusedCombineByLse(b, loc, rows, o, lse, op.getInit(), ct) : Value();
  if (!result)
    result = combineByLse(b, loc, rows, o, lse, op.getInit(), ct);
  return SmallVector<Value>{result};
}
