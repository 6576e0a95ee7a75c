//===- DecomposePkm.cpp - decomposition of attn.pkm -----------------------===//
//
// attn.pkm (product-key memory, docs/Semantics.md §8) as linalg on tensors. The
// top-k choices are made on f32 scores; the kept candidates' scores, their
// softmax and the weighted sum of values are in the compute type ct (f32, or
// f64 for the oracle of attn-run --check). Top-k is built without a sort: per
// query (b, h, i),
//
//   s1[x] = <subkeys1[h, x], q[:Dk/2]>,  s2[y] = <subkeys2[h, y], q[Dk/2:]>
//   rank1[x] = #{x' : s1[x'] > s1[x] or (s1[x'] == s1[x] and x' < x)}
//              (the position of x in the order "larger score, then smaller
//              index"; x is among the top k iff rank1[x] < k)
//   I1[t]    = the x with rank1[x] == t, for t < k     (likewise I2 from s2)
//   cand[t1, t2] = s1[I1[t1]] + s2[I2[t2]],  id[t1, t2] = I1[t1] n + I2[t2]
//   crank[c] = #{c' : cand[c'] > cand[c] or (== and id[c'] < id[c])}
//   w[c]     = crank[c] < k ? exp(cand[c] - max_kept cand) : 0
//   o        = sum_c w[c] values[id[c]] / sum_c w[c]
//
// The gathers are reductions (`max_x (rank[x] == t ? x : 0)`), so the indices
// stay in [0, n) even when NaN scores break the ranking (the result is then
// unspecified, docs/Semantics.md §1, but nothing reads out of bounds).
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

/// s[b,h,i,x] = sum_d subkeys[h,x,d] q[b,h,i,offset+d] in `type`, d < Dk/2.
static Value subkeyScores(GenericBuilder &g, Value q, Value subkeys,
                          int64_t offset, FloatType type) {
  OpBuilder &b = g.b;
  SmallVector<OpFoldResult> qs = getSizes(b, g.loc, q);
  auto skType = cast<RankedTensorType>(subkeys.getType());
  int64_t n = skType.getDimSize(1), half = skType.getDimSize(2);
  Value init = g.filled({qs[0], qs[1], qs[2], b.getIndexAttr(n)}, type, 0.0);
  // Dk = 0: every score is the empty sum (and MLIR 22's extract_slice
  // verifier rejects the static offset 0 into q's dim of static size 0).
  if (half == 0)
    return init;
  // The half q[..., offset : offset + Dk/2].
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                       b.getIndexAttr(0),
                                       b.getIndexAttr(offset)};
  SmallVector<OpFoldResult> sizes = {qs[0], qs[1], qs[2], b.getIndexAttr(half)};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  Value qHalf =
      tensor::ExtractSliceOp::create(b, g.loc, q, offsets, sizes, strides);
  // Dims (b, h, i, x, d).
  return g.generic(
      ValueRange{subkeys, qHalf}, init,
      {g.dims(5, {1, 3, 4}), g.dims(5, {0, 1, 2, 4}), g.dims(5, {0, 1, 2, 3})},
      g.iterators(5, {4}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value p =
            arith::MulFOp::create(nb, nl, convertFloat(nb, nl, a[0], type),
                                  convertFloat(nb, nl, a[1], type));
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[2], p));
      });
}

/// `other` comes before `self` in the order "larger score first, then
/// smaller tie-break key".
static Value before(OpBuilder &nb, Location nl, Value otherScore,
                    Value selfScore, Value otherKey, Value selfKey) {
  Value greater = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT,
                                        otherScore, selfScore);
  Value equal = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                      otherScore, selfScore);
  Value smaller = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ult,
                                        otherKey, selfKey);
  return arith::OrIOp::create(nb, nl, greater,
                              arith::AndIOp::create(nb, nl, equal, smaller));
}

/// rank[b,h,i,x] = #{x' : x' before x} (i64) over the last dim of
/// `scores` [B,H,N,m]; the tie-break key is `keys[b,h,i,x]` when given, else
/// the index x itself.
static Value ranks(GenericBuilder &g, Value scores, Value keys) {
  OpBuilder &b = g.b;
  Type i64 = b.getI64Type();
  Value init = g.filled(getSizes(b, g.loc, scores), i64, 0);
  // Dims (b, h, i, x, x'); x' is the reduction.
  AffineMap self = g.dims(5, {0, 1, 2, 3}), other = g.dims(5, {0, 1, 2, 4});
  SmallVector<Value> inputs = {scores, scores};
  SmallVector<AffineMap> maps = {other, self};
  if (keys) {
    inputs.append({keys, keys});
    maps.append({other, self});
  }
  maps.push_back(self);
  return g.generic(
      inputs, init, maps, g.iterators(5, {4}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value otherKey, selfKey;
        if (keys) {
          otherKey = a[2];
          selfKey = a[3];
        } else {
          otherKey = linalg::IndexOp::create(nb, nl, 4);
          selfKey = linalg::IndexOp::create(nb, nl, 3);
        }
        Value isBefore = before(nb, nl, a[0], a[1], otherKey, selfKey);
        Value one = arith::ExtUIOp::create(nb, nl, i64, isBefore);
        yieldOne(nb, nl, arith::AddIOp::create(nb, nl, a.back(), one));
      });
}

/// top[b,h,i,t] = max_x (rank[b,h,i,x] == t ? x : 0) for t < k: the index of
/// rank t (i64, always in [0, n)).
static Value indexOfRank(GenericBuilder &g, Value rank, int64_t k) {
  OpBuilder &b = g.b;
  Type i64 = b.getI64Type();
  SmallVector<OpFoldResult> s = getSizes(b, g.loc, rank);
  Value init = g.filled({s[0], s[1], s[2], b.getIndexAttr(k)}, i64, 0);
  // Dims (b, h, i, t, x); x is the reduction.
  return g.generic(
      ValueRange{rank}, init,
      {g.dims(5, {0, 1, 2, 4}), g.dims(5, {0, 1, 2, 3})}, g.iterators(5, {4}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value t = arith::IndexCastOp::create(
            nb, nl, i64, linalg::IndexOp::create(nb, nl, 3));
        Value x = arith::IndexCastOp::create(
            nb, nl, i64, linalg::IndexOp::create(nb, nl, 4));
        Value hit =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, a[0], t);
        Value zero = arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(0));
        Value cand = arith::SelectOp::create(nb, nl, hit, x, zero);
        yieldOne(nb, nl, arith::MaxSIOp::create(nb, nl, a[1], cand));
      });
}

namespace {
/// The k*k candidates of each query, as [B,H,N,k*k] tensors.
struct Candidates {
  /// s1[I1[t1]] + s2[I2[t2]] in f32: what the top k is chosen on.
  Value scores;
  /// I1[t1] n + I2[t2] (i64).
  Value ids;
  /// The scores again in the compute type, or null when that is f32.
  Value computeScores;
};
} // namespace

/// The candidates from the f32 sub-key scores `s1`, `s2`, the compute-type
/// ones `s1c`, `s2c` (null with f32) and the top-k indices `top1`, `top2`.
static Candidates candidates(GenericBuilder &g, Value s1, Value s2, Value s1c,
                             Value s2c, Value top1, Value top2, int64_t n,
                             int64_t k) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  Type f32 = b.getF32Type(), i64 = b.getI64Type();
  SmallVector<OpFoldResult> s = getSizes(b, loc, top1);
  SmallVector<OpFoldResult> sizes = {s[0], s[1], s[2], b.getIndexAttr(k),
                                     b.getIndexAttr(k)};
  SmallVector<Value> inits = {emptyTensor(b, loc, sizes, f32),
                              emptyTensor(b, loc, sizes, i64)};
  if (s1c)
    inits.push_back(emptyTensor(
        b, loc, sizes, cast<RankedTensorType>(s1c.getType()).getElementType()));
  // Dims (b, h, i, t1, t2).
  SmallVector<AffineMap> maps = {g.dims(5, {0, 1, 2, 3}),
                                 g.dims(5, {0, 1, 2, 4})};
  maps.append(inits.size(), b.getMultiDimIdentityMap(5));
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange(ValueRange(inits)), ValueRange{top1, top2}, inits, maps,
      parallelIterators(5), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value bi = linalg::IndexOp::create(nb, nl, 0);
        Value hi = linalg::IndexOp::create(nb, nl, 1);
        Value ii = linalg::IndexOp::create(nb, nl, 2);
        Type index = nb.getIndexType();
        Value x = arith::IndexCastOp::create(nb, nl, index, a[0]);
        Value y = arith::IndexCastOp::create(nb, nl, index, a[1]);
        auto sum = [&](Value t1, Value t2) -> Value {
          Value sx =
              tensor::ExtractOp::create(nb, nl, t1, ValueRange{bi, hi, ii, x});
          Value sy =
              tensor::ExtractOp::create(nb, nl, t2, ValueRange{bi, hi, ii, y});
          return arith::AddFOp::create(nb, nl, sx, sy);
        };
        Value score = sum(s1, s2);
        Value nConst =
            arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(n));
        Value id = arith::AddIOp::create(
            nb, nl, arith::MulIOp::create(nb, nl, a[0], nConst), a[1]);
        SmallVector<Value> results = {score, id};
        if (s1c)
          results.push_back(sum(s1c, s2c));
        linalg::YieldOp::create(nb, nl, results);
      });
  SmallVector<ReassociationIndices> reassoc = {{0}, {1}, {2}, {3, 4}};
  auto collapse = [&](unsigned result) -> Value {
    return tensor::CollapseShapeOp::create(b, loc, op.getResult(result),
                                           reassoc);
  };
  return {collapse(0), collapse(1), s1c ? collapse(2) : Value()};
}

SmallVector<OpFoldResult> mlir::attn::detail::assertPkmSizes(OpBuilder &b,
                                                             Location loc,
                                                             PkmOp op,
                                                             int64_t n) {
  SmallVector<OpFoldResult> qs = getSizes(b, loc, op.getQuery());
  SmallVector<OpFoldResult> s1s = getSizes(b, loc, op.getSubkeys1());
  SmallVector<OpFoldResult> s2s = getSizes(b, loc, op.getSubkeys2());
  SmallVector<OpFoldResult> vs = getSizes(b, loc, op.getValues());
  SmallVector<OpFoldResult> os = getSizes(b, loc, op.getInit());
  assertEqualSizes(b, loc, s1s[0], qs[1],
                   "attn.pkm: subkeys1 dim 0 differs from H");
  assertEqualSizes(b, loc, s2s[0], qs[1],
                   "attn.pkm: subkeys2 dim 0 differs from H");
  assertEqualSizes(b, loc, s2s[1], s1s[1],
                   "attn.pkm: subkeys1 and subkeys2 differ in n");
  assertEqualSizes(b, loc, vs[0], b.getIndexAttr(n * n),
                   "attn.pkm: values must have n * n rows");
  for (unsigned d = 0; d < 3; ++d)
    assertEqualSizes(b, loc, os[d], qs[d],
                     "attn.pkm: outs and query differ in [B, H, N]");
  return qs;
}

FailureOr<SmallVector<Value>> mlir::attn::decomposePkm(OpBuilder &b, PkmOp op,
                                                       FloatType ct) {
  Location loc = op.getLoc();
  GenericBuilder g{b, loc};
  Value q = op.getQuery(), sk1 = op.getSubkeys1(), sk2 = op.getSubkeys2();
  Value values = op.getValues(), init = op.getInit();
  auto qType = cast<RankedTensorType>(q.getType());
  auto skType = cast<RankedTensorType>(sk1.getType());
  int64_t dk = qType.getDimSize(3), n = skType.getDimSize(1);
  int64_t k = op.getTopKAttr().getInt();
  if (ShapedType::isDynamic(dk) || ShapedType::isDynamic(n) || k < 1 || k > n)
    return op.emitOpError("decomposition expects static Dk and n and "
                          "1 <= top_k <= n");

  // Run-time checks of dynamic dims that must match.
  SmallVector<OpFoldResult> qs = attn::detail::assertPkmSizes(b, loc, op, n);

  // A query of static size 0 in B, H or N: the result is empty, nothing is
  // computed. (MLIR 22's tensor.extract_slice verifier rejects the static
  // offset 0 into a dim of static size 0 that subkeyScores would build, even
  // for an empty slice.)
  if (llvm::is_contained(qType.getShape().take_front(3), 0)) {
    if (init.getType() != op.getResult().getType())
      init = tensor::CastOp::create(b, loc, op.getResult().getType(), init);
    return SmallVector<Value>{init};
  }

  // Sub-key scores (f32) and the top k of each half; the scores again in the
  // compute type when that is not f32.
  Value s1 = subkeyScores(g, q, sk1, 0, b.getF32Type());
  Value s2 = subkeyScores(g, q, sk2, dk / 2, b.getF32Type());
  Value top1 = indexOfRank(g, ranks(g, s1, Value()), k);
  Value top2 = indexOfRank(g, ranks(g, s2, Value()), k);
  Value s1c, s2c;
  if (!ct.isF32()) {
    s1c = subkeyScores(g, q, sk1, 0, ct);
    s2c = subkeyScores(g, q, sk2, dk / 2, ct);
  }

  // The k*k candidates, ranked by (f32 score desc, id asc); the best k are
  // kept and weighted by their scores in the compute type.
  Candidates c = candidates(g, s1, s2, s1c, s2c, top1, top2, n, k);
  Value ids = c.ids;
  Value crank = ranks(g, c.scores, ids);
  Value cand = c.computeScores ? c.computeScores : c.scores;
  SmallVector<OpFoldResult> rowSizes = {qs[0], qs[1], qs[2]};
  auto kept = [&](OpBuilder &nb, Location nl, Value rank) {
    Value kc = arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(k));
    return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, rank, kc);
  };

  // Softmax over the kept candidates: mx = max_kept cand,
  // w = kept ? exp(cand - mx) : 0, den = sum w.
  double negInf = -std::numeric_limits<double>::infinity();
  AffineMap cMap = g.dims(4, {0, 1, 2, 3}), rowMap = g.dims(4, {0, 1, 2});
  Value mx = g.generic(
      ValueRange{cand, crank}, g.filled(rowSizes, ct, negInf),
      {cMap, cMap, rowMap}, g.iterators(4, {3}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value m = arith::MaximumFOp::create(nb, nl, a[2], a[0]);
        yieldOne(nb, nl,
                 arith::SelectOp::create(nb, nl, kept(nb, nl, a[1]), m, a[2]));
      });
  Value weights = g.generic(
      ValueRange{cand, crank, mx},
      emptyTensor(b, loc, getSizes(b, loc, cand), ct),
      {cMap, cMap, rowMap, cMap}, parallelIterators(4),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value e = math::ExpOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, a[0], a[2]));
        Value zero = arith::ConstantOp::create(nb, nl, nb.getFloatAttr(ct, 0));
        yieldOne(nb, nl,
                 arith::SelectOp::create(nb, nl, kept(nb, nl, a[1]), e, zero));
      });
  Value den = g.generic(
      ValueRange{weights}, g.filled(rowSizes, ct, 0.0), {cMap, rowMap},
      g.iterators(4, {3}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[1], a[0]));
      });

  // num[b,h,i,e] = sum_{kept c} w[c] values[id[c], e]; dims (b, h, i, e, c).
  // Candidates that are not kept are selected away, not weighted by 0, so
  // that a NaN or inf in their value rows does not reach the row.
  int64_t dv = cast<RankedTensorType>(values.getType()).getDimSize(1);
  AffineMap candMap = g.dims(5, {0, 1, 2, 4});
  Value num = g.generic(
      ValueRange{weights, ids, crank},
      g.filled({qs[0], qs[1], qs[2], b.getIndexAttr(dv)}, ct, 0.0),
      {candMap, candMap, candMap, g.dims(5, {0, 1, 2, 3})},
      g.iterators(5, {4}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value row = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), a[1]);
        Value col = linalg::IndexOp::create(nb, nl, 3);
        Value val =
            tensor::ExtractOp::create(nb, nl, values, ValueRange{row, col});
        Value p =
            arith::MulFOp::create(nb, nl, a[0], convertFloat(nb, nl, val, ct));
        Value sum = arith::AddFOp::create(nb, nl, a[3], p);
        yieldOne(nb, nl,
                 arith::SelectOp::create(nb, nl, kept(nb, nl, a[2]), sum, a[3]));
      });

  // o = num / den in the outs' element type (den >= 1: the best candidate
  // weighs exp(0)).
  Type outElt = cast<RankedTensorType>(init.getType()).getElementType();
  AffineMap id4 = b.getMultiDimIdentityMap(4);
  Value result = g.generic(
      ValueRange{num, den}, init, {id4, rowMap, id4}, parallelIterators(4),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value o = arith::DivFOp::create(nb, nl, a[0], a[1]);
        yieldOne(nb, nl, convertFloat(nb, nl, o, outElt));
      });
  return SmallVector<Value>{result};
}
