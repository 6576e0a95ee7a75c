//===- FusePkm.cpp - fused form of attn.pkm -------------------------------===//
//
// attn.pkm (docs/Semantics.md §8) per (batch, head, chunk of T queries), an
// scf.forall iteration, all in f32:
//
//   S1 = Q1 K1^T, S2 = Q2 K2^T              [T, n] contractions
//   top k of each row of S1 and of S2, by k selection passes: pass t keeps,
//     per row, the best entry ordered after the one pass t - 1 kept, in the
//     order (larger score, then smaller key): a row maximum over the
//     entries after it, then the smallest key among those that reach it
//     (two vectorized row reductions over the tile, both select-maxima:
//     NaN scores are passed over);
//   the k x k candidates (score s1 + s2, key x n + y), their top k by the
//     same passes;
//   o = sum_t w_t values[key_t] / sum_t w_t, w_t = exp(score_t - score_0).
//
// Keys travel as f32 (exact: n * n <= 2^24 is required); a key that no entry
// reaches (only when NaN scores break the order, docs/Semantics.md §1 leaves
// the result unspecified) reads row 0. Memory O(T (n + k^2)) per iteration.
//
// Taken: static Dk, n, top_k with n * n <= 2^24.
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

namespace {
class PkmFuser {
public:
  PkmFuser(OpBuilder &b, PkmOp op, int64_t chunk)
      : b(b), loc(op.getLoc()), op(op), chunk(chunk), g{b, op.getLoc()} {}
  bool accepts();
  Value build();

private:
  /// The top `topK` of every row of `scores` [rows, w], ordered by (larger
  /// score, smaller key); keys are `keys` [rows, w] (f32) or, when null, the
  /// column. Returns (scores, keys), each [topK, rows].
  std::pair<Value, Value> topRows(Value scores, Value keys, Value rows);
  /// The k x k candidates of the rows whose sub-key top k are `top1S`,
  /// `top1X`, `top2S`, `top2X` ([k, rows] each), their top k, and the output
  /// rows written into `dest` [rows, Dv].
  Value outputRows(Value top1S, Value top1X, Value top2S, Value top2X,
                   Value rows, Value dest);

  OpBuilder &b;
  Location loc;
  PkmOp op;
  int64_t chunk;
  GenericBuilder g;
  int64_t dk = 0, n = 0, topK = 0, dv = 0;
};
} // namespace

bool PkmFuser::accepts() {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto skType = cast<RankedTensorType>(op.getSubkeys1().getType());
  auto vType = cast<RankedTensorType>(op.getValues().getType());
  dk = qType.getDimSize(3);
  n = skType.getDimSize(1);
  dv = vType.getDimSize(1);
  topK = op.getTopKAttr().getInt();
  return !ShapedType::isDynamic(dk) && !ShapedType::isDynamic(n) &&
         !ShapedType::isDynamic(dv) && dk % 2 == 0 && topK >= 1 && topK <= n &&
         n * n <= (int64_t(1) << 24) &&
         !llvm::is_contained(qType.getShape().take_front(3), 0);
}

std::pair<Value, Value> PkmFuser::topRows(Value scores, Value keys,
                                          Value rows) {
  double inf = std::numeric_limits<double>::infinity();
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  OpFoldResult kSize = b.getIndexAttr(topK);
  Value outS = emptyTensor(b, loc, {kSize, rows}, b.getF32Type());
  Value outX = emptyTensor(b, loc, {kSize, rows}, b.getF32Type());
  auto rowType = RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
  auto row = [&](Value t, Value idx) -> Value {
    return tensor::ExtractSliceOp::create(
        b, loc, rowType, t, ArrayRef<OpFoldResult>{idx, zero},
        ArrayRef<OpFoldResult>{one, rows}, ArrayRef<OpFoldResult>{one, one});
  };
  auto putRow = [&](Value src, Value dest, Value idx) -> Value {
    return tensor::InsertSliceOp::create(
        b, loc, src, dest, ArrayRef<OpFoldResult>{idx, zero},
        ArrayRef<OpFoldResult>{one, rows}, ArrayRef<OpFoldResult>{one, one});
  };
  AffineMap tile = g.dims(2, {0, 1}), rowMap = g.dims(2, {0});
  auto loop = buildFor(
      b, loc, cIndex(b, loc, 0), cIndex(b, loc, topK), cIndex(b, loc, 1),
      ValueRange{outS, outX},
      [&](Value t, ValueRange iter) -> SmallVector<Value> {
        Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t,
                                            cIndex(b, loc, 0));
        Value prev = arith::SubIOp::create(
            b, loc, arith::MaxUIOp::create(b, loc, t, cIndex(b, loc, 1)),
            cIndex(b, loc, 1));
        Value prevS = row(iter[0], prev), prevX = row(iter[1], prev);
        SmallVector<Value> inputs = {scores};
        SmallVector<AffineMap> maps = {tile};
        if (keys) {
          inputs.push_back(keys);
          maps.push_back(tile);
        }
        inputs.append({prevS, prevX});
        maps.append({rowMap, rowMap});
        // (score, key) of an entry, and whether it comes after the previous
        // pick, inside a body whose arguments are `a`.
        auto entry = [&](OpBuilder &nb, Location nl,
                         ValueRange a) -> std::tuple<Value, Value, Value> {
          Value s = a[0];
          Value key;
          if (keys) {
            key = a[1];
          } else {
            Value col = linalg::IndexOp::create(nb, nl, 1);
            key = arith::SIToFPOp::create(
                nb, nl, nb.getF32Type(),
                arith::IndexCastOp::create(nb, nl, nb.getI64Type(), col));
          }
          Value ps = a[keys ? 2 : 1], px = a[keys ? 3 : 2];
          Value below =
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLT, s, ps);
          Value tie = arith::AndIOp::create(
              nb, nl,
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, s, ps),
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, key,
                                    px));
          Value after = arith::OrIOp::create(
              nb, nl, first, arith::OrIOp::create(nb, nl, below, tie));
          return {s, key, after};
        };
        Value bestInit =
            linalg::FillOp::create(b, loc, cF32(b, loc, -inf), row(iter[0], t))
                .getResult(0);
        SmallVector<AffineMap> bestMaps(maps);
        bestMaps.push_back(rowMap);
        Value best =
            g.generic(inputs, bestInit, bestMaps, g.iterators(2, {1}),
                      [&](OpBuilder &nb, Location nl, ValueRange a) {
                        auto [s, key, after] = entry(nb, nl, a);
                        (void)key;
                        Value cand = arith::SelectOp::create(
                            nb, nl, after, s, cF32(nb, nl, -inf));
                        yieldOne(nb, nl, selectMax(nb, nl, a.back(), cand));
                      });
        SmallVector<Value> keyInputs(inputs);
        keyInputs.push_back(best);
        SmallVector<AffineMap> keyMaps(maps);
        keyMaps.append({rowMap, rowMap});
        // The smallest key as the largest negated key.
        Value keyInit =
            linalg::FillOp::create(b, loc, cF32(b, loc, -inf), row(iter[1], t))
                .getResult(0);
        Value key = g.generic(
            keyInputs, keyInit, keyMaps, g.iterators(2, {1}),
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              auto [s, k, after] = entry(nb, nl, a);
              Value reaches = arith::AndIOp::create(
                  nb, nl, after,
                  arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, s,
                                        a[a.size() - 2]));
              Value cand = arith::SelectOp::create(
                  nb, nl, reaches, arith::NegFOp::create(nb, nl, k),
                  cF32(nb, nl, -inf));
              yieldOne(nb, nl, selectMax(nb, nl, a.back(), cand));
            });
        AffineMap id1 = b.getMultiDimIdentityMap(1);
        key = g.generic(ValueRange{}, key, {id1}, parallelIterators(1),
                        [&](OpBuilder &nb, Location nl, ValueRange a) {
                          yieldOne(nb, nl, arith::NegFOp::create(nb, nl, a[0]));
                        });
        return {putRow(best, iter[0], t), putRow(key, iter[1], t)};
      });
  return {loop.getResult(0), loop.getResult(1)};
}

/// `key < limit ? key : 0` as an index (a key that no entry reached, +inf,
/// reads entry 0).
static Value keyIndex(OpBuilder &nb, Location nl, Value key, int64_t limit) {
  Value ok = arith::CmpFOp::create(
      nb, nl, arith::CmpFPredicate::OLT, key,
      arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(float(limit))));
  Value safe = arith::SelectOp::create(nb, nl, ok, key, cF32(nb, nl, 0.0));
  Value i = arith::FPToUIOp::create(nb, nl, nb.getI64Type(), safe);
  return arith::IndexCastOp::create(nb, nl, nb.getIndexType(), i);
}

Value PkmFuser::build() {
  Value q = op.getQuery(), init = op.getInit();
  SmallVector<OpFoldResult> qs = attn::detail::assertPkmSizes(b, loc, op, n);
  int64_t half = dk / 2;
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  Value sk1 = attn::detail::toF32(b, loc, op.getSubkeys1()),
        sk2 = attn::detail::toF32(b, loc, op.getSubkeys2());
  Value sizeN = toIndexValue(b, loc, qs[2]);
  Value step = cIndex(b, loc, chunk);
  Value numChunks = arith::CeilDivUIOp::create(b, loc, sizeN, step);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{qs[0], qs[1], numChunks}, ValueRange{init},
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bi = forall.getInductionVars()[0], hi = forall.getInductionVars()[1];
  Value t0 = arith::MulIOp::create(b, loc, forall.getInductionVars()[2], step);
  Value rows = chunkRows(b, loc, t0, sizeN, chunk);
  Value qc = attn::detail::toF32(b, loc, rows4d(b, loc, q, bi, hi, t0, rows));
  auto subkeys = [&](Value sk) -> Value {
    return tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({n, half}, b.getF32Type()), sk,
        ArrayRef<OpFoldResult>{hi, zero, zero},
        ArrayRef<OpFoldResult>{one, b.getIndexAttr(n), b.getIndexAttr(half)},
        ArrayRef<OpFoldResult>{one, one, one});
  };
  auto halfScores = [&](Value sk, int64_t offset) {
    Value qh = slice2d(b, loc, qc, zero, rows, b.getIndexAttr(offset),
                       b.getIndexAttr(half));
    return contract(b, loc, qh, subkeys(sk),
                    filled2d(b, loc, rows, b.getIndexAttr(n), 0.0),
                    /*transposeA=*/false, /*transposeB=*/true);
  };
  // std::tie, not structured bindings: the row loop's lambda captures them
  // (a C++20 extension).
  Value top1S, top1X, top2S, top2X;
  std::tie(top1S, top1X) = topRows(halfScores(sk1, 0), Value(), rows);
  std::tie(top2S, top2X) = topRows(halfScores(sk2, half), Value(), rows);

  // The candidates, their top k and the output, for a few rows at a time:
  // their k x k scores and keys (8 k^2 bytes a row) stay in the L1 cache
  // across the k selection passes.
  auto outType = cast<RankedTensorType>(init.getType());
  Value oInit =
      emptyTensor(b, loc, {rows, b.getIndexAttr(dv)}, outType.getElementType());
  int64_t sub = std::max<int64_t>(1, 4096 / (topK * topK));
  OpFoldResult kSize = b.getIndexAttr(topK);
  auto rowLoop = buildFor(
      b, loc, cIndex(b, loc, 0), rows, cIndex(b, loc, sub), ValueRange{oInit},
      [&](Value r0, ValueRange iter) -> SmallVector<Value> {
        Value rr = chunkRows(b, loc, r0, rows, sub);
        auto cols = [&](Value t) {
          return slice2d(b, loc, t, zero, kSize, r0, rr);
        };
        Value dest = slice2d(b, loc, iter[0], r0, rr);
        Value o = outputRows(cols(top1S), cols(top1X), cols(top2S), cols(top2X),
                             rr, dest);
        return {insert2d(b, loc, o, iter[0], r0)};
      });
  Value o = rowLoop.getResult(0);
  OpFoldResult dvSize = b.getIndexAttr(dv);

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, o, forall.getRegionIterArgs()[0],
      ArrayRef<OpFoldResult>{bi, hi, t0, zero},
      ArrayRef<OpFoldResult>{one, one, rows, dvSize},
      ArrayRef<OpFoldResult>{one, one, one, one});
  return forall.getResult(0);
}

Value PkmFuser::outputRows(Value top1S, Value top1X, Value top2S, Value top2X,
                           Value rows, Value dest) {
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  Value values = op.getValues();
  // The k x k candidates: score s1 + s2, key x n + y; dims (i, a, b).
  OpFoldResult kSize = b.getIndexAttr(topK);
  SmallVector<OpFoldResult> candSizes = {rows, kSize, kSize};
  Value candInits[] = {emptyTensor(b, loc, candSizes, b.getF32Type()),
                       emptyTensor(b, loc, candSizes, b.getF32Type())};
  auto cand = linalg::GenericOp::create(
      b, loc, TypeRange{candInits[0].getType(), candInits[1].getType()},
      ValueRange{top1S, top2S, top1X, top2X}, ValueRange(candInits),
      SmallVector<AffineMap>{g.dims(3, {1, 0}), g.dims(3, {2, 0}),
                             g.dims(3, {1, 0}), g.dims(3, {2, 0}),
                             g.dims(3, {0, 1, 2}), g.dims(3, {0, 1, 2})},
      parallelIterators(3), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value score = arith::AddFOp::create(nb, nl, a[0], a[1]);
        Value key = arith::AddFOp::create(
            nb, nl,
            arith::MulFOp::create(nb, nl, a[2], cF32(nb, nl, double(n))), a[3]);
        linalg::YieldOp::create(nb, nl, ValueRange{score, key});
      });
  SmallVector<ReassociationIndices> flat = {{0}, {1, 2}};
  Value candS =
      tensor::CollapseShapeOp::create(b, loc, cand.getResult(0), flat);
  Value candX =
      tensor::CollapseShapeOp::create(b, loc, cand.getResult(1), flat);
  auto [bestS, bestX] = topRows(candS, candX, rows);

  // o[i, e] = sum_t w[t, i] values[key[t, i], e] / sum_t w[t, i],
  // w = exp(score - score of the best); dims (i, t, e).
  auto rowType = RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
  Value top = tensor::ExtractSliceOp::create(
      b, loc, rowType, bestS, ArrayRef<OpFoldResult>{zero, zero},
      ArrayRef<OpFoldResult>{one, rows}, ArrayRef<OpFoldResult>{one, one});
  OpFoldResult dvSize = b.getIndexAttr(dv);
  Value num = g.generic(
      ValueRange{bestS, bestX, top}, filled2d(b, loc, rows, dvSize, 0.0),
      {g.dims(3, {1, 0}), g.dims(3, {1, 0}), g.dims(3, {0}), g.dims(3, {0, 2})},
      g.iterators(3, {1}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value w = math::ExpOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, a[0], a[2]));
        Value e = linalg::IndexOp::create(nb, nl, 2);
        Value val = tensor::ExtractOp::create(
            nb, nl, values, ValueRange{keyIndex(nb, nl, a[1], n * n), e});
        Value p = arith::MulFOp::create(
            nb, nl, w, convertFloat(nb, nl, val, nb.getF32Type()));
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[3], p));
      });
  Value den = g.generic(
      ValueRange{bestS, top}, filledTensor(b, loc, {rows}, b.getF32Type(), 0.0),
      {g.dims(2, {1, 0}), g.dims(2, {0}), g.dims(2, {0})}, g.iterators(2, {1}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value w = math::ExpOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, a[0], a[1]));
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[2], w));
      });
  Type outElt = cast<RankedTensorType>(dest.getType()).getElementType();
  return g.generic(ValueRange{num, den}, dest,
                   {g.dims(2, {0, 1}), g.dims(2, {0}), g.dims(2, {0, 1})},
                   parallelIterators(2),
                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                     Value r = arith::DivFOp::create(nb, nl, a[0], a[1]);
                     yieldOne(nb, nl, convertFloat(nb, nl, r, outElt));
                   });
}

FailureOr<Value> fuse::fusePkm(OpBuilder &b, PkmOp op, int64_t chunk) {
  PkmFuser fuser(b, op, chunk);
  if (!fuser.accepts())
    return failure();
  return fuser.build();
}
