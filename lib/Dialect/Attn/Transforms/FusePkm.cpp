//===- FusePkm.cpp - fused form of attn.pkm -------------------------------===//
//
// attn.pkm (docs/Semantics.md §8) per (batch, head, chunk of T queries), an
// scf.forall iteration, all in f32:
//
//   S1 = Q1 K1^T, S2 = Q2 K2^T              [T, n] contractions
//   G1, G2: the maxima of the k column groups j mod k of each row [T, k]
//     (their smallest is a floor of the row's k-th best score)
//   per query row (an scf.for):
//     the top k of its S1 row and of its S2 row, each by one scalar pass
//       into a sorted list of k (FusePkmSelect.h: n compares, an insertion
//       only for an entry that beats the k-th, entries below the floor
//       passed over);
//     the top k of the candidates s1_a + s2_c (key x_a n + y_c), walking the
//       two sorted lists row by row, each walk stopping at the first sum
//       below the k-th;
//     w_t = exp(score_t - score_0) and key_t into a row of [T, k] tiles;
//   per query row (a second scf.for, so that the gathers, cache misses
//   mostly, overlap without the branchy selection between them):
//     o = sum_t w_t values[key_t] / sum_t w_t: the k value rows gathered as
//       vectors of 16 lanes, accumulated in registers over blocks of at most
//       256 columns.
//
// Only the set entries of a list are read. When NaN scores leave a list
// short (docs/Semantics.md §1 leaves that result unspecified), its unset
// entries weigh 0 with key 0, and an empty list gives 0 / 0. Memory per
// iteration: the [T, n] scores, the [T, k] maxima, weights and keys, the
// lists (3k entries) and the [T, Dv] output tile.
//
// Taken: every verified op (Dk, n and Dv are static) without a static size
// 0 in B, H or N.
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "FusePkmSelect.h"
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

namespace {
class PkmFuser {
public:
  PkmFuser(OpBuilder &b, PkmOp op, int64_t chunk)
      : b(b), loc(op.getLoc()), op(op), chunk(chunk) {}
  bool accepts();
  Value build();

private:
  /// Row `row` of `weights` [rows, k] (f32) and `keys` [rows, k] (i64)
  /// from the top k `best`: exp(s_t - s_0) and the key, or (0, 0) past the
  /// list's count. Returns the two tiles.
  std::pair<Value, Value> storeBest(const TopList &best, Value row,
                                    Value weights, Value keys);
  /// Row `row` of `dest` [rows, Dv] (the output element type):
  /// sum_t w_t values[key_t] / sum_t w_t.
  Value outputRow(Value weights, Value keys, Value row, Value dest);

  OpBuilder &b;
  Location loc;
  PkmOp op;
  int64_t chunk;
  int64_t dk = 0, n = 0, topK = 0, dv = 0;
};
} // namespace

bool PkmFuser::accepts() {
  // The verifier makes Dk (even), n and Dv static and 1 <= top_k <= n.
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  dk = qType.getDimSize(3);
  n = cast<RankedTensorType>(op.getSubkeys1().getType()).getDimSize(1);
  dv = cast<RankedTensorType>(op.getValues().getType()).getDimSize(1);
  topK = op.getTopKAttr().getInt();
  // A static size 0 (nothing to compute): the tensor.extract_slice verifier
  // rejects the static offset 0 into such a dim, even for an empty slice.
  return !llvm::is_contained(qType.getShape().take_front(3), 0);
}

Value PkmFuser::build() {
  Value q = op.getQuery(), init = op.getInit();
  SmallVector<OpFoldResult> qs = attn::detail::assertPkmSizes(b, loc, op, n);
  int64_t half = dk / 2;
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  // The sub-keys transposed to [H, Dk / 2, n] (f32), once: the score
  // contractions then read them row-major.
  auto transposed = [&](Value sk) -> Value {
    GenericBuilder g{b, loc};
    OpFoldResult heads = getSizes(b, loc, sk)[0];
    return g.generic(
        ValueRange{sk},
        emptyTensor(b, loc, {heads, b.getIndexAttr(half), b.getIndexAttr(n)},
                    b.getF32Type()),
        {g.dims(3, {0, 2, 1}), g.dims(3, {0, 1, 2})}, parallelIterators(3),
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          yieldOne(nb, nl, convertFloat(nb, nl, a[0], nb.getF32Type()));
        });
  };
  Value sk1 = transposed(op.getSubkeys1()), sk2 = transposed(op.getSubkeys2());
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
        b, loc, RankedTensorType::get({half, n}, b.getF32Type()), sk,
        ArrayRef<OpFoldResult>{hi, zero, zero},
        ArrayRef<OpFoldResult>{one, b.getIndexAttr(half), b.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{one, one, one});
  };
  auto halfScores = [&](Value sk, int64_t offset) {
    Value qh = slice2d(b, loc, qc, zero, rows, b.getIndexAttr(offset),
                       b.getIndexAttr(half));
    return contract(b, loc, qh, subkeys(sk),
                    filled2d(b, loc, rows, b.getIndexAttr(n), 0.0));
  };
  Value scores1 = halfScores(sk1, 0), scores2 = halfScores(sk2, half);
  TopListBuilder lists(b, loc, topK);
  Value maxima1 = lists.groupMaxima(scores1, rows, n),
        maxima2 = lists.groupMaxima(scores2, rows, n);

  // Per query row, the three lists (at entries 0, k and 2k of two buffers
  // carried from row to row) into a row of the weights and keys of the
  // chunk; then the output rows, whose gathers of value rows (cache misses
  // mostly) overlap better without the branchy selection between them.
  OpFoldResult kSize = b.getIndexAttr(topK);
  SmallVector<Value> inits = {
      emptyTensor(b, loc, {b.getIndexAttr(3 * topK)}, b.getF32Type()),
      emptyTensor(b, loc, {b.getIndexAttr(3 * topK)}, b.getI64Type()),
      // Filled, not empty: an empty tile of the same shape (CSE merges
      // those) could share a buffer with the group maxima.
      filledTensor(b, loc, {rows, kSize}, b.getF32Type(), 0.0),
      linalg::FillOp::create(
          b, loc,
          Value(arith::ConstantIntOp::create(b, loc, b.getI64Type(), 0)),
          emptyTensor(b, loc, {rows, kSize}, b.getI64Type()))
          .getResult(0)};
  auto rowLoop = buildFor(
      b, loc, cIndex(b, loc, 0), rows, cIndex(b, loc, 1), inits,
      [&](Value i, ValueRange iter) -> SmallVector<Value> {
        TopList first = lists.topOfRow(
            lists.start(iter[0], iter[1], 0, n, lists.floorOf(maxima1, i)),
            scores1, i, n);
        TopList second =
            lists.topOfRow(lists.start(first.scores, first.keys, topK, n,
                                       lists.floorOf(maxima2, i)),
                           scores2, i, n);
        TopList best = lists.topOfSums(
            lists.start(second.scores, second.keys, 2 * topK, n * n), first,
            second, n);
        auto [weights, keys] = storeBest(best, i, iter[2], iter[3]);
        return {best.scores, best.keys, weights, keys};
      });
  Value weights = rowLoop.getResult(2), keys = rowLoop.getResult(3);
  auto outType = cast<RankedTensorType>(init.getType());
  Value oInit =
      emptyTensor(b, loc, {rows, b.getIndexAttr(dv)}, outType.getElementType());
  Value o = buildFor(b, loc, cIndex(b, loc, 0), rows, cIndex(b, loc, 1),
                     ValueRange{oInit},
                     [&](Value i, ValueRange iter) -> SmallVector<Value> {
                       return {outputRow(weights, keys, i, iter[0])};
                     })
                .getResult(0);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, o, forall.getRegionIterArgs()[0],
      ArrayRef<OpFoldResult>{bi, hi, t0, zero},
      ArrayRef<OpFoldResult>{one, one, rows, b.getIndexAttr(dv)},
      ArrayRef<OpFoldResult>{one, one, one, one});
  return forall.getResult(0);
}

std::pair<Value, Value> PkmFuser::storeBest(const TopList &best, Value row,
                                            Value weights, Value keys) {
  Value base = cIndex(b, loc, best.offset);
  Value top = tensor::ExtractOp::create(b, loc, best.scores, base);
  Value last = cIndex(b, loc, topK - 1);
  scf::ForOp loop = buildFor(
      b, loc, cIndex(b, loc, 0), cIndex(b, loc, topK), cIndex(b, loc, 1),
      ValueRange{weights, keys},
      [&](Value t, ValueRange iter) -> SmallVector<Value> {
        Value set = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, t,
                                          best.count);
        Value at = arith::AddIOp::create(
            b, loc, arith::MinUIOp::create(b, loc, t, last), base);
        Value s = tensor::ExtractOp::create(b, loc, best.scores, at);
        Value w =
            math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, s, top));
        w = arith::SelectOp::create(b, loc, set, w, cF32(b, loc, 0.0));
        Value key = arith::SelectOp::create(
            b, loc, set, tensor::ExtractOp::create(b, loc, best.keys, at),
            arith::ConstantIntOp::create(b, loc, b.getI64Type(), 0));
        return {
            tensor::InsertOp::create(b, loc, w, iter[0], ValueRange{row, t}),
            tensor::InsertOp::create(b, loc, key, iter[1], ValueRange{row, t})};
      });
  return {loop.getResult(0), loop.getResult(1)};
}

Value PkmFuser::outputRow(Value weights, Value keys, Value row, Value dest) {
  Value zero = cIndex(b, loc, 0), one = cIndex(b, loc, 1);
  Value kSize = cIndex(b, loc, topK);
  Type f32 = b.getF32Type();
  Value den = buildFor(b, loc, zero, kSize, one, ValueRange{cF32(b, loc, 0.0)},
                       [&](Value t, ValueRange iter) -> SmallVector<Value> {
                         Value w = tensor::ExtractOp::create(
                             b, loc, weights, ValueRange{row, t});
                         return {arith::AddFOp::create(b, loc, iter[0], w)};
                       })
                  .getResult(0);

  Value values = op.getValues();
  Type valueElt = cast<RankedTensorType>(values.getType()).getElementType();
  Type outElt = cast<RankedTensorType>(dest.getType()).getElementType();
  // Vectors of 16 lanes (LLVM splits them where registers are narrower),
  // at most 16 accumulators at a time.
  constexpr int64_t lanes = 16, blockCols = 16 * lanes;
  auto vf32 = VectorType::get({lanes}, f32);
  auto convert = [&](Value v, Type elt) -> Value {
    Type from = cast<VectorType>(v.getType()).getElementType();
    auto to = VectorType::get({lanes}, elt);
    if (from == elt)
      return v;
    if (from.getIntOrFloatBitWidth() < elt.getIntOrFloatBitWidth())
      return arith::ExtFOp::create(b, loc, to, v);
    return arith::TruncFOp::create(b, loc, to, v);
  };
  Value denV = vector::BroadcastOp::create(b, loc, vf32, den);
  for (int64_t c0 = 0; c0 < dv; c0 += blockCols) {
    int64_t numVectors = (std::min(blockCols, dv - c0) + lanes - 1) / lanes;
    auto inBounds = [&](int64_t v) {
      return SmallVector<bool>{c0 + (v + 1) * lanes <= dv};
    };
    SmallVector<Value> acc0(
        numVectors,
        arith::ConstantOp::create(
            b, loc, vf32, DenseElementsAttr::get(vf32, b.getF32FloatAttr(0))));
    scf::ForOp sum = buildFor(
        b, loc, zero, kSize, one, acc0,
        [&](Value t, ValueRange acc) -> SmallVector<Value> {
          Value key =
              tensor::ExtractOp::create(b, loc, keys, ValueRange{row, t});
          Value r = arith::IndexCastOp::create(b, loc, b.getIndexType(), key);
          Value w = vector::BroadcastOp::create(
              b, loc, vf32,
              tensor::ExtractOp::create(b, loc, weights, ValueRange{row, t}));
          Value pad =
              arith::ConstantOp::create(b, loc, b.getFloatAttr(valueElt, 0.0));
          SmallVector<Value> next;
          for (int64_t v = 0; v < numVectors; ++v) {
            Value col = cIndex(b, loc, c0 + v * lanes);
            Value x = vector::TransferReadOp::create(
                b, loc, VectorType::get({lanes}, valueElt), values,
                ValueRange{r, col}, pad, inBounds(v));
            next.push_back(
                vector::FMAOp::create(b, loc, w, convert(x, f32), acc[v]));
          }
          return next;
        });
    for (int64_t v = 0; v < numVectors; ++v) {
      Value o = arith::DivFOp::create(b, loc, sum.getResult(v), denV);
      dest = vector::TransferWriteOp::create(
                 b, loc, convert(o, outElt), dest,
                 ValueRange{row, cIndex(b, loc, c0 + v * lanes)}, inBounds(v))
                 .getResult();
    }
  }
  return dest;
}
FailureOr<Value> fuse::fusePkm(OpBuilder &b, PkmOp op, int64_t chunk) {
  PkmFuser fuser(b, op, chunk);
  if (!fuser.accepts())
    return failure();
  return fuser.build();
}
