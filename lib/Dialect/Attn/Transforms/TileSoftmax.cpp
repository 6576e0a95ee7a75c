//===- TileSoftmax.cpp - Score contraction and online softmax of a tile ---===//
//
// See TileUtils.h. Every op works on whole tiles (tensors with dynamic row
// and column counts), never on the full Nq x Nk scores.
//
//===----------------------------------------------------------------------===//
#include "TileUtils.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;

namespace {
/// Float constants of a fixed type.
struct Constants {
  OpBuilder &b;
  Location loc;
  Type type;
  Value operator()(double value) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  }
  Value negInf() { return (*this)(-std::numeric_limits<double>::infinity()); }
};
} // namespace

/// Returns whether every element of the `[C, Dv]` tile `values` is finite
/// (an i1): `sum v * 0` is 0 exactly then and NaN otherwise, summed per row
/// and then over the rows (two reductions that vectorize like the softmax's
/// row sums).
static Value buildAllFinite(OpBuilder &b, Location loc, Value values,
                            Type ct) {
  GenericBuilder gb{b, loc};
  OpFoldResult rows = tensor::getMixedSize(b, loc, values, 0);
  Value perRow = gb.generic(
      ValueRange{values}, filledTensor(b, loc, {rows}, ct, 0.0),
      {gb.dims(2, {0, 1}), gb.dims(2, {0})}, gb.iterators(2, {1}),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value zero = Constants{nb, nl, ct}(0.0);
        Value v = convertFloat(nb, nl, args[0], ct);
        yieldOne(nb, nl,
                 arith::AddFOp::create(nb, nl, args[1],
                                       arith::MulFOp::create(nb, nl, v, zero)));
      });
  Value total = gb.generic(
      ValueRange{perRow}, filledTensor(b, loc, {}, ct, 0.0),
      {gb.dims(1, {0}), AffineMap::get(1, 0, {}, b.getContext())},
      gb.iterators(1, {0}), [&](OpBuilder &nb, Location nl, ValueRange args) {
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, args[1], args[0]));
      });
  Value sum = tensor::ExtractOp::create(b, loc, total, ValueRange{});
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum,
                               Constants{b, loc, ct}(0.0));
}

/// A tensor of `sizes` holding `value`, written by a linalg.generic rather
/// than a linalg.fill: CSE would merge a fill with the identical fills that
/// start each key tile's row reductions, and bufferization would then copy
/// this buffer into a fresh one on every key tile.
static Value constantTensor(OpBuilder &b, Location loc,
                            ArrayRef<OpFoldResult> sizes, Type type,
                            double value) {
  GenericBuilder gb{b, loc};
  unsigned rank = sizes.size();
  return gb.generic(ValueRange{}, emptyTensor(b, loc, sizes, type),
                    {b.getMultiDimIdentityMap(rank)}, parallelIterators(rank),
                    [&](OpBuilder &nb, Location nl, ValueRange) {
                      yieldOne(nb, nl, Constants{nb, nl, type}(value));
                    });
}

RowState tile::buildInitialState(OpBuilder &b, Location loc, OpFoldResult rows,
                                 int64_t valueDim, FloatType computeType) {
  return {constantTensor(b, loc, {rows}, computeType,
                         -std::numeric_limits<double>::infinity()),
          constantTensor(b, loc, {rows}, computeType, 0.0),
          constantTensor(b, loc, {rows, b.getIndexAttr(valueDim)}, computeType,
                         0.0)};
}

Value tile::buildScoreTile(OpBuilder &b, Location loc, Value queries,
                           Value keys, FloatType computeType) {
  OpFoldResult rows = tensor::getMixedSize(b, loc, queries, 0);
  OpFoldResult cols = tensor::getMixedSize(b, loc, keys, 0);
  Value init = filledTensor(b, loc, {rows, cols}, computeType, 0.0);
  return linalg::MatmulTransposeBOp::create(b, loc, TypeRange{init.getType()},
                                            ValueRange{queries, keys},
                                            ValueRange{init})
      .getResult(0);
}

RowState tile::buildSoftmaxStep(OpBuilder &b, Location loc,
                                const RowState &state, Value scores,
                                Value weight, Value values,
                                function_ref<Value()> buildLive) {
  GenericBuilder gb{b, loc};
  Type ct = cast<RankedTensorType>(scores.getType()).getElementType();
  OpFoldResult rows = tensor::getMixedSize(b, loc, scores, 0);
  // Iteration spaces: (r, c) over the tile, (r) over rows, (r, e, c) for the
  // value contraction.
  AffineMap rc = gb.dims(2, {0, 1}), r2 = gb.dims(2, {0}), r1 = gb.dims(1, {0});
  SmallVector<utils::IteratorType> rowReduce = gb.iterators(2, {1});

  // The tile's row maximum, then per row, updating max in place:
  // max' = max(max, tileMax), shift and alpha. The tile maximum is
  // `s > m ? s : m`, which passes over a NaN score (one compare and select,
  // a single vector max instruction, where a NaN-propagating maximum needs
  // fix-ups): the NaN still reaches its row through p = exp2(NaN - shift),
  // so the row's sum, output and log-sum-exp are NaN all the same.
  Value tileMax = gb.generic(
      ValueRange{scores},
      filledTensor(b, loc, {rows}, ct,
                   -std::numeric_limits<double>::infinity()),
      {rc, r2}, rowReduce, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value greater = arith::CmpFOp::create(
            nb, nl, arith::CmpFPredicate::OGT, args[0], args[1]);
        yieldOne(nb, nl,
                 arith::SelectOp::create(nb, nl, greater, args[0], args[1]));
      });
  Value shiftInit = emptyTensor(b, loc, {rows}, ct);
  Value alphaInit = emptyTensor(b, loc, {rows}, ct);
  auto rowOp = linalg::GenericOp::create(
      b, loc,
      TypeRange{state.max.getType(), shiftInit.getType(), alphaInit.getType()},
      ValueRange{tileMax}, ValueRange{state.max, shiftInit, alphaInit},
      SmallVector<AffineMap>(4, r1), parallelIterators(1),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value newMax = arith::MaximumFOp::create(nb, nl, args[1], args[0]);
        Value shift = softmaxShift(nb, nl, newMax);
        Value alpha = math::Exp2Op::create(
            nb, nl, arith::SubFOp::create(nb, nl, args[1], shift));
        linalg::YieldOp::create(nb, nl, ValueRange{newMax, shift, alpha});
      });
  Value newMax = rowOp.getResult(0), shift = rowOp.getResult(1),
        alpha = rowOp.getResult(2);

  // p = exp2(s - shift) [* weight]: 0 where s = -inf (shift is finite).
  SmallVector<Value> pIns = {scores, shift};
  SmallVector<AffineMap> pMaps = {rc, r2};
  int weightArg = -1;
  if (weight) {
    weightArg = pIns.size();
    pIns.push_back(weight);
    pMaps.push_back(rc);
  }
  pMaps.push_back(rc);
  Value probs = gb.generic(
      pIns, emptyTensor(b, loc, tensor::getMixedSizes(b, loc, scores), ct),
      pMaps, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value e = math::Exp2Op::create(
            nb, nl, arith::SubFOp::create(nb, nl, args[0], args[1]));
        if (weightArg >= 0)
          e = arith::MulFOp::create(nb, nl, e, args[weightArg]);
        yieldOne(nb, nl, e);
      });

  // sum' = alpha sum + sum_c p, in place.
  Value tileSum = gb.generic(
      ValueRange{probs}, filledTensor(b, loc, {rows}, ct, 0.0), {rc, r2},
      rowReduce, [&](OpBuilder &nb, Location nl, ValueRange args) {
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, args[1], args[0]));
      });
  Value newSum = gb.generic(
      ValueRange{alpha, tileSum}, state.sum, {r1, r1, r1}, parallelIterators(1),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value scaled = arith::MulFOp::create(nb, nl, args[2], args[0]);
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, scaled, args[1]));
      });

  // acc' = alpha acc + sum_c p v, in place.
  AffineMap re = gb.dims(2, {0, 1});
  Value acc = gb.generic(
      ValueRange{alpha}, state.acc, {gb.dims(2, {0}), re}, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        yieldOne(nb, nl, arith::MulFOp::create(nb, nl, args[1], args[0]));
      });
  auto matmul = [&]() -> Value {
    return linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                                    ValueRange{probs, values}, ValueRange{acc})
        .getResult(0);
  };
  if (!buildLive)
    return {newMax, newSum, matmul()};
  // (r, e, c): acc[r, e] += live[r, c] ? p[r, c] v[c, e] : 0.
  auto selecting = [&]() -> Value {
    Value live = buildLive();
    AffineMap prc = gb.dims(3, {0, 2});
    return gb.generic(
        ValueRange{probs, values, live}, acc,
        {prc, gb.dims(3, {2, 1}), prc, gb.dims(3, {0, 1})},
        gb.iterators(3, {2}), [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value term = arith::MulFOp::create(nb, nl, args[0],
                                             convertFloat(nb, nl, args[1], ct));
          term = arith::SelectOp::create(nb, nl, args[2], term,
                                         Constants{nb, nl, ct}(0.0));
          yieldOne(nb, nl, arith::AddFOp::create(nb, nl, args[3], term));
        });
  };
  // Values in another type (bf16, f16) keep the selecting contraction: the
  // CPU's bf16 kernels take a plain matmul and round p to bf16, which a
  // Partial tile did not do before (its dead pairs made it select).
  if (cast<RankedTensorType>(values.getType()).getElementType() != ct)
    return {newMax, newSum, selecting()};
  // A Partial tile: p is 0 at the pairs that are not live, so the plain
  // contraction is exact unless a value is infinite or NaN (0 * inf).
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{acc.getType()},
                                buildAllFinite(b, loc, values, ct),
                                /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, loc, matmul());
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, loc, selecting());
  }
  Value newAcc = ifOp.getResult(0);
  return {newMax, newSum, newAcc};
}

Value tile::buildNormalizedOutput(OpBuilder &b, Location loc,
                                  const RowState &state, Value init) {
  GenericBuilder gb{b, loc};
  Type elementType = getElementTypeOrSelf(init.getType());
  AffineMap re = gb.dims(2, {0, 1});
  return gb.generic(ValueRange{state.acc, state.sum}, init,
                    {re, gb.dims(2, {0}), re}, parallelIterators(2),
                    [&](OpBuilder &nb, Location nl, ValueRange args) {
                      Value o = divideOrZero(nb, nl, args[0], args[1]);
                      yieldOne(nb, nl, convertFloat(nb, nl, o, elementType));
                    });
}

Value tile::buildLogSumExp(OpBuilder &b, Location loc, const RowState &state,
                           Value init) {
  GenericBuilder gb{b, loc};
  Type elementType = getElementTypeOrSelf(init.getType());
  AffineMap r = gb.dims(1, {0});
  return gb.generic(ValueRange{state.max, state.sum}, init, {r, r, r},
                    parallelIterators(1),
                    [&](OpBuilder &nb, Location nl, ValueRange args) {
                      Type ct = args[0].getType();
                      Value shift = softmaxShift(nb, nl, args[0]);
                      Value log2Sum = math::Log2Op::create(nb, nl, args[1]);
                      Value lse = arith::MulFOp::create(
                          nb, nl, arith::AddFOp::create(nb, nl, shift, log2Sum),
                          Constants{nb, nl, ct}(M_LN2));
                      yieldOne(nb, nl, convertFloat(nb, nl, lse, elementType));
                    });
}
