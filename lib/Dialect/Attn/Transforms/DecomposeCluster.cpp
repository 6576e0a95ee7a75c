//===- DecomposeCluster.cpp - decomposition of attn.cluster
//----------------===//
//
// attn.cluster (Routing Transformer, DESIGN section 4) as gather -> attn.sdpa
// per cluster with remapped positions -> scatter and log-sum-exp combine. Per
// batch b, query head h (KV head g = h / (H / Hkv)) and cluster c (choices and
// scores in f32):
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
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

using utils::IteratorType;

//===----------------------------------------------------------------------===//
//===----------------------------------------------------------------------===//
// Small building helpers
//===----------------------------------------------------------------------===//

/// The map (d0, .., d{numDims-1}) -> (d{dims[0]}, d{dims[1]}, ..).
static AffineMap projection(MLIRContext *ctx, unsigned numDims,
                            ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

/// `x * y` on sizes, folded when both are static.
static OpFoldResult mulSizes(OpBuilder &b, Location loc, OpFoldResult x,
                             OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx * *cy);
  return arith::MulIOp::create(b, loc, toIndexValue(b, loc, x),
                               toIndexValue(b, loc, y))
      .getResult();
}

/// `x / y` (unsigned) on sizes, folded when both are static; `y` is >= 1.
static OpFoldResult divSizes(OpBuilder &b, Location loc, OpFoldResult x,
                             OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx / *cy);
  return arith::DivUIOp::create(b, loc, toIndexValue(b, loc, x),
                                toIndexValue(b, loc, y))
      .getResult();
}

static Value indexConst(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// `max(size, 1)` as an index value: a divisor that is never zero (where the
/// size is 0 the loops that divide by it run no iteration, but a division by
/// a constant zero would still be undefined behaviour for LLVM).
static Value safeDivisor(OpBuilder &b, Location loc, OpFoldResult size) {
  if (std::optional<int64_t> c = getConstantIntValue(size))
    return indexConst(b, loc, std::max<int64_t>(*c, 1));
  return arith::MaxUIOp::create(b, loc, toIndexValue(b, loc, size),
                                indexConst(b, loc, 1));
}

static Value f32Const(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

static Value negInfF32(OpBuilder &b, Location loc) {
  return f32Const(b, loc, -std::numeric_limits<double>::infinity());
}

/// `tensor.empty` filled with an integer constant.
static Value filledInt(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                       Type type, int64_t value) {
  Value empty = emptyTensor(b, loc, sizes, type);
  Value cst = arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
  return linalg::FillOp::create(b, loc, cst, empty).getResult(0);
}

/// Terminates a linalg.generic body with one value.
static void yieldValue(OpBuilder &b, Location loc, Value value) {
  linalg::YieldOp::create(b, loc, value);
}

/// One linalg.generic; returns its results.
static ValueRange
generic(OpBuilder &b, Location loc, ValueRange inputs, ValueRange inits,
        ArrayRef<AffineMap> maps, ArrayRef<IteratorType> iterators,
        function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Type> types;
  for (Value init : inits)
    types.push_back(init.getType());
  return linalg::GenericOp::create(b, loc, types, inputs, inits, maps,
                                   iterators, body)
      .getResults();
}

/// Reduction iterators after `numParallel` parallel ones.
static SmallVector<IteratorType> reductionAfter(unsigned numParallel,
                                                unsigned numReduction = 1) {
  SmallVector<IteratorType> iterators = parallelIterators(numParallel);
  iterators.append(numReduction, IteratorType::reduction);
  return iterators;
}

static SmallVector<Value> indices(OpBuilder &b, Location loc, unsigned n) {
  SmallVector<Value> result;
  for (unsigned d = 0; d < n; ++d)
    result.push_back(linalg::IndexOp::create(b, loc, d));
  return result;
}

/// `cf.assert(cond)` with `message` when `cond` is not statically true.
static void assertTrue(OpBuilder &b, Location loc, Value cond,
                       const Twine &message) {
  if (std::optional<int64_t> c = getConstantIntValue(cond); c && *c)
    return;
  cf::AssertOp::create(b, loc, cond, message.str());
}

//===----------------------------------------------------------------------===//
// Element-wise and row helpers
//===----------------------------------------------------------------------===//

/// `t` with every element converted to f32 (`t` itself when already f32).
static Value toF32(OpBuilder &b, Location loc, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  if (type.getElementType().isF32())
    return t;
  unsigned rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  Value init = emptyTensor(b, loc, getSizes(b, loc, t), b.getF32Type());
  return generic(b, loc, t, init, {id, id}, parallelIterators(rank),
                 [](OpBuilder &nb, Location l, ValueRange args) {
                   yieldValue(nb, l,
                              convertFloat(nb, l, args[0], nb.getF32Type()));
                 })[0];
}

/// Rows of `x` [B, H, N, D] (f32) divided by their Euclidean norm; a zero row
/// stays zero: `x / sqrt(sum_d x^2)`, or 0 where the sum is 0.
static Value normalizeRows(OpBuilder &b, Location loc, Value x) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  Value zeros =
      filledTensor(b, loc, ArrayRef(sizes).take_front(3), b.getF32Type(), 0.0);
  Value sumSq =
      generic(b, loc, x, zeros,
              {projection(ctx, 4, {0, 1, 2, 3}), projection(ctx, 4, {0, 1, 2})},
              reductionAfter(3), [](OpBuilder &nb, Location l, ValueRange a) {
                Value sq = arith::MulFOp::create(nb, l, a[0], a[0]);
                yieldValue(nb, l, arith::AddFOp::create(nb, l, a[1], sq));
              })[0];
  Value init = emptyTensor(b, loc, sizes, b.getF32Type());
  return generic(
      b, loc, ValueRange{x, sumSq}, init,
      {projection(ctx, 4, {0, 1, 2, 3}), projection(ctx, 4, {0, 1, 2}),
       projection(ctx, 4, {0, 1, 2, 3})},
      parallelIterators(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value zero = f32Const(nb, l, 0.0);
        Value isZero =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[1], zero);
        Value norm = math::SqrtOp::create(nb, l, a[1]);
        Value scaled = arith::DivFOp::create(nb, l, a[0], norm);
        yieldValue(nb, l, arith::SelectOp::create(nb, l, isZero, zero, scaled));
      })[0];
}

/// Gathers rows: `out[b, g, m, f] = f32(src[b, g / headDiv, pos[b, g, m], f])`
/// for `src` [B, Hs, Ns, F] and the i64 positions `pos` [B, G, M].
static Value gatherRows(OpBuilder &b, Location loc, Value src, Value pos,
                        OpFoldResult headDiv) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, pos);
  sizes.push_back(getSizes(b, loc, src)[3]);
  Value init = emptyTensor(b, loc, sizes, b.getF32Type());
  Value div = safeDivisor(b, loc, headDiv);
  return generic(
      b, loc, pos, init,
      {projection(ctx, 4, {0, 1, 2}), projection(ctx, 4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        SmallVector<Value> idx = indices(nb, l, 4);
        Value head = arith::DivUIOp::create(nb, l, idx[1], div);
        Value row = arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[0]);
        Value value = tensor::ExtractOp::create(
            nb, l, src, ValueRange{idx[0], head, row, idx[3]});
        yieldValue(nb, l, convertFloat(nb, l, value, nb.getF32Type()));
      })[0];
}

/// The log-sum-exp combination of P partial results per query (DESIGN attn.lsh
/// step 6). `rows` [B, H, P, N] (i64) names, for part p of query n, the row
/// `g * M + u` of the sdpa result `o` [B, G, M, Dv] and `lse` [B, G, M], or is
/// negative when the query has no such part. Writes
/// `o(n) = sum_p exp(lse_p - LSE) o_p` (0 when every lse_p is -inf) into
/// `init` [B, H, N, Dv] in its element type.
static Value combineByLse(OpBuilder &b, Location loc, Value rows, Value o,
                          Value lse, int64_t m, Value init) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  SmallVector<OpFoldResult> rowSizes = getSizes(b, loc, rows);
  SmallVector<OpFoldResult> querySizes = {rowSizes[0], rowSizes[1],
                                          rowSizes[3]};
  Value mValue = indexConst(b, loc, m);
  // lseP[b, h, p, n] = lse at the row of part p, or -inf.
  Value lseP = generic(
      b, loc, rows, emptyTensor(b, loc, rowSizes, f32),
      {b.getMultiDimIdentityMap(4), b.getMultiDimIdentityMap(4)},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value bIdx = linalg::IndexOp::create(nb, l, 0);
        Value zero = arith::ConstantIntOp::create(nb, l, nb.getI64Type(), 0);
        Value none =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, a[0], zero);
        Value safe = arith::SelectOp::create(nb, l, none, zero, a[0]);
        Value row = arith::IndexCastOp::create(nb, l, nb.getIndexType(), safe);
        Value g = arith::DivUIOp::create(nb, l, row, mValue);
        Value u = arith::RemUIOp::create(nb, l, row, mValue);
        Value value =
            tensor::ExtractOp::create(nb, l, lse, ValueRange{bIdx, g, u});
        yieldValue(
            nb, l,
            arith::SelectOp::create(nb, l, none, negInfF32(nb, l), value));
      })[0];
  // shift[b, h, n] = max_p lseP, or 0 when that is -inf.
  AffineMap partMap = projection(ctx, 4, {0, 1, 3, 2});
  AffineMap queryMap = projection(ctx, 4, {0, 1, 2});
  Value maxInit = filledTensor(b, loc, querySizes, f32,
                               -std::numeric_limits<double>::infinity());
  Value maxLse =
      generic(b, loc, lseP, maxInit, {partMap, queryMap}, reductionAfter(3),
              [](OpBuilder &nb, Location l, ValueRange a) {
                yieldValue(nb, l, arith::MaximumFOp::create(nb, l, a[0], a[1]));
              })[0];
  auto shiftOf = [](OpBuilder &nb, Location l, Value max) -> Value {
    Value isNegInf = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                           max, negInfF32(nb, l));
    return arith::SelectOp::create(nb, l, isNegInf, f32Const(nb, l, 0.0), max);
  };
  // total[b, h, n] = sum_p exp(lseP - shift).
  Value total = generic(
      b, loc, ValueRange{lseP, maxLse},
      filledTensor(b, loc, querySizes, f32, 0.0), {partMap, queryMap, queryMap},
      reductionAfter(3), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value diff = arith::SubFOp::create(nb, l, a[0], shiftOf(nb, l, a[1]));
        Value w = math::ExpOp::create(nb, l, diff);
        yieldValue(nb, l, arith::AddFOp::create(nb, l, a[2], w));
      })[0];
  // acc[b, h, n, e] = sum_p exp(lseP - shift) o_p[e] (parts that do not exist
  // are skipped by selection, never read).
  SmallVector<OpFoldResult> outSizes = getSizes(b, loc, init);
  Value acc = generic(
      b, loc, ValueRange{rows, lseP, maxLse},
      filledTensor(b, loc, outSizes, f32, 0.0),
      {projection(ctx, 5, {0, 1, 4, 2}), projection(ctx, 5, {0, 1, 4, 2}),
       projection(ctx, 5, {0, 1, 2}), projection(ctx, 5, {0, 1, 2, 3})},
      reductionAfter(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value bIdx = linalg::IndexOp::create(nb, l, 0);
        Value eIdx = linalg::IndexOp::create(nb, l, 3);
        Value zero = arith::ConstantIntOp::create(nb, l, nb.getI64Type(), 0);
        Value none =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, a[0], zero);
        Value safe = arith::SelectOp::create(nb, l, none, zero, a[0]);
        Value row = arith::IndexCastOp::create(nb, l, nb.getIndexType(), safe);
        Value g = arith::DivUIOp::create(nb, l, row, mValue);
        Value u = arith::RemUIOp::create(nb, l, row, mValue);
        Value value =
            tensor::ExtractOp::create(nb, l, o, ValueRange{bIdx, g, u, eIdx});
        Value diff = arith::SubFOp::create(nb, l, a[1], shiftOf(nb, l, a[2]));
        Value w = math::ExpOp::create(nb, l, diff);
        Value term = arith::MulFOp::create(nb, l, w, value);
        Value sum = arith::AddFOp::create(nb, l, a[3], term);
        yieldValue(nb, l, arith::SelectOp::create(nb, l, none, a[3], sum));
      })[0];
  // out = total == 0 ? 0 : acc / total, in the element type of `init`.
  Type outType = cast<RankedTensorType>(init.getType()).getElementType();
  return generic(
      b, loc, ValueRange{acc, total}, init,
      {projection(ctx, 4, {0, 1, 2, 3}), projection(ctx, 4, {0, 1, 2}),
       projection(ctx, 4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value zero = f32Const(nb, l, 0.0);
        Value empty =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[1], zero);
        Value ratio = arith::DivFOp::create(nb, l, a[0], a[1]);
        Value value = arith::SelectOp::create(nb, l, empty, zero, ratio);
        yieldValue(nb, l, convertFloat(nb, l, value, outType));
      })[0];
}

//===----------------------------------------------------------------------===//
// Cluster membership
//===----------------------------------------------------------------------===//

/// `score[b, h, c, n] = sum_d x[b, h, n, d] mu[h, c, d]` (f32).
static Value centroidScores(OpBuilder &b, Location loc, Value x, Value mu) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> xs = getSizes(b, loc, x), ms = getSizes(b, loc, mu);
  Value init =
      filledTensor(b, loc, {xs[0], xs[1], ms[1], xs[2]}, b.getF32Type(), 0.0);
  // Loops (b, h, c, n, d).
  return generic(
      b, loc, ValueRange{x, mu}, init,
      {projection(ctx, 5, {0, 1, 3, 4}), projection(ctx, 5, {1, 2, 4}),
       projection(ctx, 5, {0, 1, 2, 3})},
      reductionAfter(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
        yieldValue(nb, l, arith::AddFOp::create(nb, l, a[2], p));
      })[0];
}

/// The rank of every position in the order by decreasing score, ties to the
/// smaller position: `rank[b, h, c, n] = #{n' : s(n') > s(n), or
/// s(n') == s(n) and n' < n}` (i64).
static Value ranks(OpBuilder &b, Location loc, Value score) {
  MLIRContext *ctx = b.getContext();
  Value init = filledInt(b, loc, getSizes(b, loc, score), b.getI64Type(), 0);
  // Loops (b, h, c, n, n').
  return generic(
      b, loc, ValueRange{score, score}, init,
      {projection(ctx, 5, {0, 1, 2, 3}), projection(ctx, 5, {0, 1, 2, 4}),
       projection(ctx, 5, {0, 1, 2, 3})},
      reductionAfter(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value n = linalg::IndexOp::create(nb, l, 3);
        Value other = linalg::IndexOp::create(nb, l, 4);
        Value higher =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, a[1], a[0]);
        Value same =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, a[1], a[0]);
        Value before =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, other, n);
        Value ahead = arith::OrIOp::create(
            nb, l, higher, arith::AndIOp::create(nb, l, same, before));
        Value one = arith::ExtUIOp::create(nb, l, nb.getI64Type(), ahead);
        yieldValue(nb, l, arith::AddIOp::create(nb, l, a[2], one));
      })[0];
}

/// The members of each cluster in rank order: `top[b, h, c, t]` = the n with
/// `rank[b, h, c, n] == t`, for t < w. Taking the maximum keeps every value in
/// [0, N) even where ranks are not a permutation (NaN scores).
static Value topPositions(OpBuilder &b, Location loc, Value rank,
                          int64_t window) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, rank);
  sizes[3] = b.getIndexAttr(window);
  Value init = filledInt(b, loc, sizes, b.getI64Type(), 0);
  // Loops (b, h, c, t, n).
  return generic(
      b, loc, rank, init,
      {projection(ctx, 5, {0, 1, 2, 4}), projection(ctx, 5, {0, 1, 2, 3})},
      reductionAfter(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value t = toI64(nb, l, linalg::IndexOp::create(nb, l, 3));
        Value n = toI64(nb, l, linalg::IndexOp::create(nb, l, 4));
        Value match =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, a[0], t);
        Value larger = arith::MaxSIOp::create(nb, l, a[1], n);
        yieldValue(nb, l, arith::SelectOp::create(nb, l, match, larger, a[1]));
      })[0];
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
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, rank);
  Value clusters = toI64(b, loc, toIndexValue(b, loc, sizes[2]));
  AffineMap id = b.getMultiDimIdentityMap(4);
  return generic(
      b, loc, rank, emptyTensor(b, loc, sizes, b.getI64Type()), {id, id},
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
        yieldValue(nb, l, arith::SelectOp::create(nb, l, member, row, none));
      })[0];
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
                            v = sizes(op.getValue()),
                            mu = sizes(op.getCentroids()),
                            o = sizes(op.getInit());
  std::string name = "attn.cluster: ";
  assertEqualSizes(b, loc, k[0], q[0], name + "B of key and query differ");
  assertEqualSizes(b, loc, v[0], q[0], name + "B of value and query differ");
  assertEqualSizes(b, loc, v[1], k[1], name + "Hkv of value and key differ");
  assertEqualSizes(b, loc, v[2], k[2], name + "Nk of value and key differ");
  assertEqualSizes(b, loc, o[0], q[0], name + "B of outs and query differ");
  assertEqualSizes(b, loc, o[1], q[1], name + "H of outs and query differ");
  assertEqualSizes(b, loc, o[2], q[2], name + "Nq of outs and query differ");
  assertEqualSizes(b, loc, o[3], v[3], name + "Dv of outs and value differ");
  assertEqualSizes(b, loc, mu[0], q[1], name + "H of centroids differs");
  assertEqualSizes(b, loc, mu[2], q[3], name + "D of centroids differs");
  if (!getConstantIntValue(q[1]) || !getConstantIntValue(k[1])) {
    Value h = toIndexValue(b, loc, q[1]), hkv = toIndexValue(b, loc, k[1]);
    Value zero = indexConst(b, loc, 0);
    Value safe = arith::MaxUIOp::create(b, loc, hkv, indexConst(b, loc, 1));
    Value rem = arith::RemUIOp::create(b, loc, h, safe);
    Value nonZero =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, hkv, zero);
    Value divides =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem, zero);
    assertTrue(b, loc, arith::AndIOp::create(b, loc, nonZero, divides),
               name + "H is not a multiple of Hkv");
  }
  OpFoldResult window = b.getIndexAttr(op.getWindowAttr().getInt());
  assertAtMost(b, loc, window, q[2], name + "window > Nq");
  assertAtMost(b, loc, window, k[2], name + "window > Nk");
  if (op.getCausal())
    assertEqualSizes(b, loc, q[2], k[2], name + "causal needs Nq == Nk");
}

/// The results (o [B, G, M, Dv], lse [B, G, M]) of the sdpa that `build`
/// creates over `q` [B, G, M, D] and `v`, or empty tensors when there are no
/// sdpa heads (G = 0: no hash rounds, chunks or clusters): attn.sdpa needs
/// H >= 1. A dynamic G is tested at run time with scf.if.
static std::pair<Value, Value>
sdpaOrEmpty(OpBuilder &b, Location loc, Value q, Value v,
            function_ref<SdpaOp(OpBuilder &)> build) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, q);
  sizes[3] = getSizes(b, loc, v)[3];
  auto empties = [&](OpBuilder &nb) -> std::pair<Value, Value> {
    return {
        emptyTensor(nb, loc, sizes, nb.getF32Type()),
        emptyTensor(nb, loc, ArrayRef(sizes).take_front(3), nb.getF32Type())};
  };
  std::optional<int64_t> groups = getConstantIntValue(sizes[1]);
  if (groups && *groups == 0)
    return empties(b);
  if (groups) {
    SdpaOp sdpa = build(b);
    return {sdpa.getResult(), sdpa.getLse()};
  }
  Value none = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                     toIndexValue(b, loc, sizes[1]),
                                     indexConst(b, loc, 0));
  auto [emptyO, emptyLse] = empties(b);
  auto ifOp = scf::IfOp::create(
      b, loc, TypeRange{emptyO.getType(), emptyLse.getType()}, none,
      /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, loc, ValueRange{emptyO, emptyLse});
    b.setInsertionPointToStart(ifOp.elseBlock());
    SdpaOp sdpa = build(b);
    scf::YieldOp::create(b, loc, ValueRange{sdpa.getResult(), sdpa.getLse()});
  }
  return {ifOp.getResult(0), ifOp.getResult(1)};
}

/// The attn.sdpa of the gathered clusters, with the original positions, the
/// causal pattern when `causal`, and an lse result.
static SdpaOp buildClusterSdpa(OpBuilder &b, Location loc, Value q, Value k,
                               Value v, Value qpos, Value kpos, bool causal,
                               FloatAttr scale) {
  SmallVector<OpFoldResult> qSizes = getSizes(b, loc, q);
  SmallVector<OpFoldResult> outSizes = {qSizes[0], qSizes[1], qSizes[2],
                                        getSizes(b, loc, v)[3]};
  Value init = emptyTensor(b, loc, outSizes, b.getF32Type());
  auto lseType = RankedTensorType::get(
      cast<RankedTensorType>(q.getType()).getShape().take_front(3),
      b.getF32Type());
  PatternAttrInterface pattern;
  if (causal)
    pattern =
        cast<PatternAttrInterface>(CausalAttr::get(b.getContext(), 0,
                                                   /*bottomRight=*/false));
  return SdpaOp::create(b, loc, init.getType(), lseType, q, k, v, init,
                        /*mask=*/nullptr, /*bias=*/nullptr,
                        /*memory_key=*/nullptr, /*memory_value=*/nullptr, qpos,
                        kpos, /*span=*/nullptr, pattern, scale,
                        /*ramp=*/nullptr, /*max_span=*/nullptr);
}

FailureOr<SmallVector<Value>> mlir::attn::decomposeCluster(OpBuilder &b,
                                                           ClusterOp op) {
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
  Value queryRank =
      ranks(b, loc, centroidScores(b, loc, normalizeRows(b, loc, q), mu));
  Value keyRank = ranks(b, loc, centroidScores(b, loc, keyDirs, mu));

  // Gather the top w of each cluster: [B, H * C, w, D].
  Value qpos =
      mergeHeadsAndClusters(b, loc, topPositions(b, loc, queryRank, window));
  Value kpos =
      mergeHeadsAndClusters(b, loc, topPositions(b, loc, keyRank, window));
  OpFoldResult numClusters = getSizes(b, loc, mu)[1];
  OpFoldResult numKvHeads = getSizes(b, loc, k)[1];
  // sdpa head h C + c reads query head h and KV head h / (H / Hkv).
  OpFoldResult group = divSizes(b, loc, numHeads, numKvHeads);
  OpFoldResult perKvHead = mulSizes(b, loc, numClusters, group);
  Value clusterQ = gatherRows(b, loc, q, qpos, numClusters);
  Value clusterK = gatherRows(b, loc, k, kpos, perKvHead);
  Value clusterV = gatherRows(b, loc, op.getValue(), kpos, perKvHead);

  auto [o, lse] = sdpaOrEmpty(b, loc, clusterQ, clusterV, [&](OpBuilder &nb) {
    return buildClusterSdpa(nb, loc, clusterQ, clusterK, clusterV, qpos, kpos,
                            op.getCausal(), op.getScaleAttr());
  });

  // Scatter back through the ranks and combine the clusters.
  Value rows = resultRows(b, loc, queryRank, window);
  Value result = combineByLse(b, loc, rows, o, lse, window, op.getInit());
  return SmallVector<Value>{result};
}
