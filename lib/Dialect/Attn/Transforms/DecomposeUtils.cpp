//===- DecomposeUtils.cpp - shared gather decomposition helpers -----------===//
#include "DecomposeUtils.h"
#include "SdpaLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

using utils::IteratorType;

static constexpr double kNegInf = -std::numeric_limits<double>::infinity();

OpFoldResult mlir::attn::detail::mulSizes(OpBuilder &b, Location loc,
                                          OpFoldResult x, OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx * *cy);
  return arith::MulIOp::create(b, loc, toIndexValue(b, loc, x),
                               toIndexValue(b, loc, y))
      .getResult();
}

OpFoldResult mlir::attn::detail::divSizes(OpBuilder &b, Location loc,
                                          OpFoldResult x, OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx / *cy);
  return arith::DivUIOp::create(b, loc, toIndexValue(b, loc, x),
                                toIndexValue(b, loc, y))
      .getResult();
}

Value mlir::attn::detail::indexConst(OpBuilder &b, Location loc,
                                     int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value mlir::attn::detail::safeDivisor(OpBuilder &b, Location loc,
                                      OpFoldResult size) {
  if (std::optional<int64_t> c = getConstantIntValue(size))
    return indexConst(b, loc, std::max<int64_t>(*c, 1));
  return arith::MaxUIOp::create(b, loc, toIndexValue(b, loc, size),
                                indexConst(b, loc, 1));
}

SmallVector<IteratorType>
mlir::attn::detail::reductionAfter(unsigned numParallel,
                                   unsigned numReduction) {
  SmallVector<IteratorType> iterators = parallelIterators(numParallel);
  iterators.append(numReduction, IteratorType::reduction);
  return iterators;
}

SmallVector<Value> mlir::attn::detail::loopIndices(OpBuilder &b, Location loc,
                                                   unsigned n) {
  SmallVector<Value> result;
  for (unsigned d = 0; d < n; ++d)
    result.push_back(linalg::IndexOp::create(b, loc, d));
  return result;
}

void mlir::attn::detail::assertTrue(OpBuilder &b, Location loc, Value cond,
                                    const Twine &message) {
  if (std::optional<int64_t> c = getConstantIntValue(cond); c && *c)
    return;
  cf::AssertOp::create(b, loc, cond, message.str());
}

Value mlir::attn::detail::toFloat(OpBuilder &b, Location loc, Value t,
                                  FloatType type) {
  auto tensorType = cast<RankedTensorType>(t.getType());
  if (tensorType.getElementType() == type)
    return t;
  unsigned rank = tensorType.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  Value init = emptyTensor(b, loc, getSizes(b, loc, t), type);
  GenericBuilder g{b, loc};
  return g.generic(t, init, {id, id}, parallelIterators(rank),
                   [&](OpBuilder &nb, Location l, ValueRange args) {
                     yieldOne(nb, l, convertFloat(nb, l, args[0], type));
                   });
}

Value mlir::attn::detail::toF32(OpBuilder &b, Location loc, Value t) {
  return toFloat(b, loc, t, b.getF32Type());
}

Value mlir::attn::detail::normalizeRows(OpBuilder &b, Location loc, Value x) {
  GenericBuilder g{b, loc};
  Type type = cast<RankedTensorType>(x.getType()).getElementType();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  Value zeros = filledTensor(b, loc, ArrayRef(sizes).take_front(3), type, 0.0);
  Value sumSq =
      g.generic(x, zeros, {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1, 2})},
                reductionAfter(3), [](OpBuilder &nb, Location l, ValueRange a) {
                  Value sq = arith::MulFOp::create(nb, l, a[0], a[0]);
                  yieldOne(nb, l, arith::AddFOp::create(nb, l, a[1], sq));
                });
  Value init = emptyTensor(b, loc, sizes, type);
  return g.generic(
      ValueRange{x, sumSq}, init,
      {g.dims(4, {0, 1, 2, 3}), g.dims(4, {0, 1, 2}), g.dims(4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        // sqrt(0) == 0: a zero row stays zero.
        Value norm = math::SqrtOp::create(nb, l, a[1]);
        yieldOne(nb, l, divideOrZero(nb, l, a[0], norm));
      });
}

Value mlir::attn::detail::gatherRows(OpBuilder &b, Location loc, Value src,
                                     Value pos, OpFoldResult headDiv,
                                     FloatType type) {
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, pos);
  sizes.push_back(getSizes(b, loc, src)[3]);
  Value init = emptyTensor(b, loc, sizes, type);
  Value div = safeDivisor(b, loc, headDiv);
  return g.generic(
      pos, init, {g.dims(4, {0, 1, 2}), g.dims(4, {0, 1, 2, 3})},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        SmallVector<Value> idx = loopIndices(nb, l, 4);
        Value head = arith::DivUIOp::create(nb, l, idx[1], div);
        Value row = arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[0]);
        Value value = tensor::ExtractOp::create(
            nb, l, src, ValueRange{idx[0], head, row, idx[3]});
        yieldOne(nb, l, convertFloat(nb, l, value, type));
      });
}

Value mlir::attn::detail::rankPositions(OpBuilder &b, Location loc, Value keys,
                                        KeyCompareFn compare) {
  GenericBuilder g{b, loc};
  Value init = g.filled(getSizes(b, loc, keys), b.getI64Type(), 0);
  // Loops (b, h, r, n, n').
  return g.generic(
      ValueRange{keys, keys}, init,
      {g.dims(5, {0, 1, 2, 3}), g.dims(5, {0, 1, 2, 4}),
       g.dims(5, {0, 1, 2, 3})},
      reductionAfter(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value n = linalg::IndexOp::create(nb, l, 3);
        Value other = linalg::IndexOp::create(nb, l, 4);
        auto [earlier, same] = compare(nb, l, a[1], a[0]);
        Value before =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, other, n);
        Value ahead = arith::OrIOp::create(
            nb, l, earlier, arith::AndIOp::create(nb, l, same, before));
        Value one = arith::ExtUIOp::create(nb, l, nb.getI64Type(), ahead);
        yieldOne(nb, l, arith::AddIOp::create(nb, l, a[2], one));
      });
}

Value mlir::attn::detail::positionsByRank(OpBuilder &b, Location loc,
                                          Value rank, OpFoldResult count) {
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, rank);
  if (count)
    sizes[3] = count;
  Value init = g.filled(sizes, b.getI64Type(), 0);
  // Loops (b, h, r, t, n).
  return g.generic(
      rank, init, {g.dims(5, {0, 1, 2, 4}), g.dims(5, {0, 1, 2, 3})},
      reductionAfter(4), [](OpBuilder &nb, Location l, ValueRange a) {
        Value t = toI64(nb, l, linalg::IndexOp::create(nb, l, 3));
        Value n = toI64(nb, l, linalg::IndexOp::create(nb, l, 4));
        Value match =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, a[0], t);
        Value larger = arith::MaxSIOp::create(nb, l, a[1], n);
        yieldOne(nb, l, arith::SelectOp::create(nb, l, match, larger, a[1]));
      });
}

Value mlir::attn::detail::combineByLse(OpBuilder &b, Location loc, Value rows,
                                       Value o, Value lse, Value init,
                                       FloatType computeType) {
  GenericBuilder g{b, loc};
  Type ct = computeType;
  auto constant = [&](OpBuilder &nb, Location l, double value) -> Value {
    return arith::ConstantOp::create(nb, l, nb.getFloatAttr(ct, value));
  };
  SmallVector<OpFoldResult> rowSizes = getSizes(b, loc, rows);
  SmallVector<OpFoldResult> querySizes = {rowSizes[0], rowSizes[1],
                                          rowSizes[3]};
  // The results as rows g * M + u: o [B, G * M, Dv] and lse [B, G * M].
  Value flatO = tensor::CollapseShapeOp::create(
      b, loc, o, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
  Value flatLse = tensor::CollapseShapeOp::create(
      b, loc, lse, SmallVector<ReassociationIndices>{{0}, {1, 2}});
  // The row of a part as an index (row 0 for a part that does not exist),
  // and whether it does not.
  auto partRow = [](OpBuilder &nb, Location l, Value row) {
    Value zero = arith::ConstantIntOp::create(nb, l, nb.getI64Type(), 0);
    Value none =
        arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, row, zero);
    Value index = arith::IndexCastOp::create(
        nb, l, nb.getIndexType(),
        arith::SelectOp::create(nb, l, none, zero, row));
    return std::make_pair(index, none);
  };
  // lseP[b, h, p, n] = lse at the row of part p, or -inf.
  Value lseP = g.generic(
      rows, emptyTensor(b, loc, rowSizes, ct),
      {b.getMultiDimIdentityMap(4), b.getMultiDimIdentityMap(4)},
      parallelIterators(4), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value bIdx = linalg::IndexOp::create(nb, l, 0);
        auto [row, none] = partRow(nb, l, a[0]);
        Value value = convertFloat(
            nb, l,
            tensor::ExtractOp::create(nb, l, flatLse, ValueRange{bIdx, row}),
            ct);
        yieldOne(nb, l,
                 arith::SelectOp::create(nb, l, none, constant(nb, l, kNegInf),
                                         value));
      });
  // shift[b, h, n] = max_p lseP, or 0 when that is -inf.
  AffineMap partMap = g.dims(4, {0, 1, 3, 2});
  AffineMap queryMap = g.dims(4, {0, 1, 2});
  Value maxInit = filledTensor(b, loc, querySizes, ct, kNegInf);
  Value maxLse =
      g.generic(lseP, maxInit, {partMap, queryMap}, reductionAfter(3),
                [](OpBuilder &nb, Location l, ValueRange a) {
                  yieldOne(nb, l, arith::MaximumFOp::create(nb, l, a[0], a[1]));
                });

  // total[b, h, n] = sum_p exp(lseP - shift).
  Value total = g.generic(
      ValueRange{lseP, maxLse}, filledTensor(b, loc, querySizes, ct, 0.0),
      {partMap, queryMap, queryMap}, reductionAfter(3),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value diff =
            arith::SubFOp::create(nb, l, a[0], softmaxShift(nb, l, a[1]));
        Value w = math::ExpOp::create(nb, l, diff);
        yieldOne(nb, l, arith::AddFOp::create(nb, l, a[2], w));
      });
  // w[b, h, p, n] = exp(lseP - shift) / total, 0 where total is 0: the
  // weight of part p (one exp per part, not per output element).
  AffineMap id4 = b.getMultiDimIdentityMap(4);
  AffineMap perQuery = g.dims(4, {0, 1, 3});
  Value weights = g.generic(
      ValueRange{lseP, maxLse, total}, emptyTensor(b, loc, rowSizes, ct),
      {id4, perQuery, perQuery, id4}, parallelIterators(4),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value diff =
            arith::SubFOp::create(nb, l, a[0], softmaxShift(nb, l, a[1]));
        yieldOne(nb, l,
                 divideOrZero(nb, l, math::ExpOp::create(nb, l, diff), a[2]));
      });
  // out[b, h, n, e] = sum_p w o_p[e], read from o as [B, G * M, Dv] at the
  // part's row g * M + u. Loops (b, h, n, p, e): the innermost runs along a
  // row of o and of out. Parts that do not exist are skipped by selection,
  // never read. Summed in the element type of `init` when that is the
  // compute type, else in the compute type and converted.
  Type outType = cast<RankedTensorType>(init.getType()).getElementType();
  SmallVector<OpFoldResult> outSizes = getSizes(b, loc, init);
  Value accInit =
      outType == ct
          ? linalg::FillOp::create(b, loc, constant(b, loc, 0.0), init)
                .getResult(0)
          : filledTensor(b, loc, outSizes, ct, 0.0);
  SmallVector<utils::IteratorType> iterators = parallelIterators(5);
  iterators[3] = IteratorType::reduction;
  AffineMap partOfQuery = g.dims(5, {0, 1, 3, 2});
  Value acc = g.generic(
      ValueRange{rows, weights}, accInit,
      {partOfQuery, partOfQuery, g.dims(5, {0, 1, 2, 4})}, iterators,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value bIdx = linalg::IndexOp::create(nb, l, 0);
        Value eIdx = linalg::IndexOp::create(nb, l, 4);
        auto [row, none] = partRow(nb, l, a[0]);
        Value value = convertFloat(
            nb, l,
            tensor::ExtractOp::create(nb, l, flatO, ValueRange{bIdx, row, eIdx}),
            ct);
        Value sum = arith::AddFOp::create(
            nb, l, a[2], arith::MulFOp::create(nb, l, a[1], value));
        yieldOne(nb, l, arith::SelectOp::create(nb, l, none, a[2], sum));
      });
  if (outType == ct)
    return acc;
  return g.generic(acc, init, {id4, id4}, parallelIterators(4),
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     yieldOne(nb, l, convertFloat(nb, l, a[0], outType));
                   });
}

/// The scale of an attention over `q`: `scale`, or 1/sqrt(D) as attn.sdpa
/// computes it.
static float scaleOrDefault(FloatAttr scale, Value q) {
  if (scale)
    return scale.getValue().convertToFloat();
  return 1.0f /
         std::sqrt(float(cast<RankedTensorType>(q.getType()).getDimSize(3)));
}

std::pair<Value, Value> mlir::attn::detail::positionedAttention(
    OpBuilder &b, Location loc, Value q, Value k, Value v, Value qpos,
    Value kpos, bool causal, FloatAttr scale, FloatType computeType,
    PairScoreFn scoreMod, int64_t causalOffset, Value init) {
  SmallVector<OpFoldResult> qSizes = getSizes(b, loc, q);
  SmallVector<OpFoldResult> outSizes = {qSizes[0], qSizes[1], qSizes[2],
                                        getSizes(b, loc, v)[3]};
  if (!init)
    init = emptyTensor(b, loc, outSizes, computeType);
  auto lseType = RankedTensorType::get(
      cast<RankedTensorType>(q.getType()).getShape().take_front(3),
      computeType);
  PatternAttrInterface pattern;
  if (causal)
    pattern =
        cast<PatternAttrInterface>(CausalAttr::get(
            b.getContext(), causalOffset, /*bottomRight=*/false));
  if (!computeType.isF32()) {
    SdpaParts parts;
    parts.query = q;
    parts.key = k;
    parts.value = v;
    parts.init = init;
    parts.queryPositions = qpos;
    parts.keyPositions = kpos;
    parts.pattern = pattern;
    parts.scale = scaleOrDefault(scale, q);
    parts.lseType = lseType;
    if (scoreMod)
      parts.scoreMod = [scoreMod](OpBuilder &nb, Location l, Value s, Value,
                                  Value, Value i,
                                  Value j) { return scoreMod(nb, l, s, i, j); };
    SmallVector<Value> results = buildSdpaLinalg(b, loc, parts, computeType);
    return {results[0], results[1]};
  }
  auto sdpa = SdpaOp::create(b, loc, init.getType(), lseType, q, k, v, init,
                             /*mask=*/nullptr, /*bias=*/nullptr,
                             /*memory_key=*/nullptr, /*memory_value=*/nullptr,
                             qpos, kpos, /*span=*/nullptr,
                             /*query_segments=*/nullptr,
                             /*key_segments=*/nullptr, /*kv_num_blocks=*/nullptr,
                             /*kv_indices=*/nullptr,
                             /*full_kv_num_blocks=*/nullptr,
                             /*full_kv_indices=*/nullptr, pattern, scale,
                             /*ramp=*/nullptr, /*max_span=*/nullptr,
                             /*block_size=*/nullptr);
  if (scoreMod) {
    OpBuilder::InsertionGuard guard(b);
    Type index = b.getIndexType();
    Block *block = b.createBlock(&sdpa.getScoreMod(), sdpa.getScoreMod().end(),
                                 {b.getF32Type(), index, index, index, index},
                                 SmallVector<Location>(5, loc));
    YieldOp::create(b, loc,
                    scoreMod(b, loc, block->getArgument(0),
                             block->getArgument(3), block->getArgument(4)));
  }
  return {sdpa.getResult(), sdpa.getLse()};
}

Value mlir::attn::detail::denseAttention(OpBuilder &b, Location loc, Value q,
                                         Value k, Value v, Value init,
                                         FloatAttr scale,
                                         FloatType computeType) {
  if (!computeType.isF32()) {
    SdpaParts parts;
    parts.query = q;
    parts.key = k;
    parts.value = v;
    parts.init = init;
    parts.scale = scaleOrDefault(scale, q);
    return buildSdpaLinalg(b, loc, parts, computeType)[0];
  }
  if (!scale)
    scale = b.getF32FloatAttr(scaleOrDefault(scale, q));
  return SdpaOp::create(b, loc, init.getType(), /*lse=*/Type(), q, k, v, init,
                        /*mask=*/Value(), /*bias=*/Value(),
                        /*memory_key=*/Value(), /*memory_value=*/Value(),
                        /*query_positions=*/Value(), /*key_positions=*/Value(),
                        /*span=*/Value(), /*query_segments=*/Value(),
                        /*key_segments=*/Value(), /*kv_num_blocks=*/Value(),
                        /*kv_indices=*/Value(), /*full_kv_num_blocks=*/Value(),
                        /*full_kv_indices=*/Value(),
                        /*pattern=*/PatternAttrInterface(), scale,
                        /*ramp=*/FloatAttr(), /*max_span=*/FloatAttr(),
                        /*block_size=*/DenseI64ArrayAttr())
      .getResult();
}

std::pair<Value, Value> mlir::attn::detail::attentionOrEmpty(
    OpBuilder &b, Location loc, Value q, Value v, FloatType computeType,
    function_ref<std::pair<Value, Value>(OpBuilder &)> build, Value oInit) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, q);
  sizes[3] = getSizes(b, loc, v)[3];
  auto empties = [&](OpBuilder &nb) -> std::pair<Value, Value> {
    return {oInit ? oInit : emptyTensor(nb, loc, sizes, computeType),
            emptyTensor(nb, loc, ArrayRef(sizes).take_front(3), computeType)};
  };
  std::optional<int64_t> groups = getConstantIntValue(sizes[1]);
  if (groups && *groups == 0)
    return empties(b);
  if (groups)
    return build(b);
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
    auto [o, lse] = build(b);
    scf::YieldOp::create(b, loc, ValueRange{o, lse});
  }
  return {ifOp.getResult(0), ifOp.getResult(1)};
}
