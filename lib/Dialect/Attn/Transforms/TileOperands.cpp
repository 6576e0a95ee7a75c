//===- TileOperands.cpp - Operand tiles, tile kinds and key steps ---------===//
//
// The parts of attn-tile that read attn.sdpa's operands for one pair of
// tiles: slices of q, k, v, memory, positions, mask and bias; the run-time
// kind of a pair of tiles (pattern, span, mask); and the step of one key
// tile, Full or Partial. See Tile.cpp for the whole form.
//
//===----------------------------------------------------------------------===//
#include "SdpaTiler.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;

//===----------------------------------------------------------------------===//
// Slices and positions
//===----------------------------------------------------------------------===//

/// A rank-reduced slice of `source` keeping the dims `kept`.
Value SdpaTiler::slice(Value source, ArrayRef<OpFoldResult> offsets,
                       ArrayRef<OpFoldResult> sizes, ArrayRef<unsigned> kept) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<int64_t> shape;
  for (unsigned d : kept)
    shape.push_back(
        getConstantIntValue(sizes[d]).value_or(ShapedType::kDynamic));
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), source,
      offsets, sizes, strides);
}

/// Returns the head of a positions operand `[B, 1 | H | Hkv, N]` that the
/// current query head reads.
Value SdpaTiler::positionsHead(Value positions) {
  Value heads = tensor::DimOp::create(b, loc, positions, 1);
  Value isOne =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, heads, index(1));
  Value isH =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, heads, sizeH);
  return arith::SelectOp::create(
      b, loc, isOne, index(0),
      arith::SelectOp::create(b, loc, isH, hIdx, kvHead));
}

/// Returns the minimum and maximum (i64) of a non-empty 1-D positions slice.
std::pair<Value, Value> SdpaTiler::positionRange(Value positionsSlice) {
  Type i64Type = b.getI64Type();
  auto fill = [&](int64_t v) {
    Value empty = emptyTensor(b, loc, {}, i64Type);
    return linalg::FillOp::create(b, loc, i64(v), empty).getResult(0);
  };
  Value lo = fill(std::numeric_limits<int64_t>::max());
  Value hi = fill(std::numeric_limits<int64_t>::min());
  AffineMap scalar = AffineMap::get(1, 0, {}, ctx);
  auto reduce = linalg::GenericOp::create(
      b, loc, TypeRange{lo.getType(), hi.getType()}, ValueRange{positionsSlice},
      ValueRange{lo, hi},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(1), scalar, scalar},
      SmallVector<utils::IteratorType>{utils::IteratorType::reduction},
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value p = attn::toI64(nb, nl, args[0]);
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::MinSIOp::create(nb, nl, args[1], p),
                       arith::MaxSIOp::create(nb, nl, args[2], p)});
      });
  return {tensor::ExtractOp::create(b, loc, reduce.getResult(0), ValueRange{}),
          tensor::ExtractOp::create(b, loc, reduce.getResult(1), ValueRange{})};
}

/// The values of the current (batch, query head): the KV head, the heads of
/// the positions operands and the clamped span.
void SdpaTiler::buildHeadValues(Value batch, Value head) {
  bIdx = batch;
  hIdx = head;
  // h / (H / Hkv), dividing by at least 1: the run-time checks reject
  // Hkv = 0 and an H that is not a multiple, but must not be overtaken by a
  // division by zero.
  Value one = index(1);
  Value group = arith::DivUIOp::create(
      b, loc, sizeH, arith::MaxUIOp::create(b, loc, sizeHkv, one));
  kvHead = arith::DivUIOp::create(b, loc, hIdx,
                                  arith::MaxUIOp::create(b, loc, group, one));
  if (Value qpos = op.getQueryPositions()) {
    qPosHead = positionsHead(qpos);
    kPosHead = positionsHead(op.getKeyPositions());
  }
  if (Value span = op.getSpan()) {
    Value z = convertFloat(
        b, loc, tensor::ExtractOp::create(b, loc, span, ValueRange{hIdx}), ct);
    Value maxSpan = floatConst(b, loc, op.getMaxSpanAttr().getValueAsDouble());
    spanZ = arith::MinimumFOp::create(
        b, loc, arith::MaximumFOp::create(b, loc, z, floatConst(b, loc, 0.0)),
        maxSpan);
  }
}

Value SdpaTiler::buildScores(const QueryTile &q, Value keys) {
  Value scores = tile::buildScoreTile(b, loc, q.scaled, keys, ct);
  if (q.scoreScale == 1.0)
    return scores;
  Value factor = floatConst(b, loc, q.scoreScale);
  GenericBuilder gb{b, loc};
  AffineMap rc = gb.dims(2, {0, 1});
  return gb.generic(
      ValueRange{scores},
      emptyTensor(b, loc, tensor::getMixedSizes(b, loc, scores), ct), {rc, rc},
      parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange args) {
        yieldOne(nb, nl, arith::MulFOp::create(nb, nl, args[0], factor));
      });
}

QueryTile SdpaTiler::buildQueryTile(Value tileIndex) {
  QueryTile q;
  q.index = tileIndex;
  q.start = mulIndex(tileIndex, index(qTile));
  q.size =
      minIndex(index(qTile), arith::SubIOp::create(b, loc, sizeNq, q.start));
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  Value raw = slice(op.getQuery(), {bIdx, hIdx, q.start, zero},
                    {one, one, q.size, b.getIndexAttr(headDim)}, {2, 3});
  double scale = op.getScaleOrDefault();
  if (!naturalScores())
    scale *= M_LOG2E;
  // bf16 queries stay exact (a scaled query rounded back to bf16 by the
  // dot-product kernel would shift large scores by about |s| 2^-9).
  if (getElementTypeOrSelf(raw.getType()).isBF16() && ct.isF32()) {
    q.scoreScale = scale;
    scale = 1.0;
  }
  Value factor = floatConst(b, loc, scale);
  GenericBuilder gb{b, loc};
  AffineMap id = gb.dims(2, {0, 1});
  q.scaled = gb.generic(
      ValueRange{raw},
      emptyTensor(b, loc, {q.size, b.getIndexAttr(headDim)}, ct), {id, id},
      parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange args) {
        yieldOne(nb, nl,
                 arith::MulFOp::create(
                     nb, nl, convertFloat(nb, nl, args[0], ct), factor));
      });
  if (Value qpos = op.getQueryPositions()) {
    q.positions =
        slice(qpos, {bIdx, qPosHead, q.start}, {one, one, q.size}, {2});
    std::tie(q.first, q.last) = positionRange(q.positions);
  } else {
    q.first = toI64(q.start);
    q.last = arith::SubIOp::create(
        b, loc, toI64(arith::AddIOp::create(b, loc, q.start, q.size)), i64(1));
  }
  if (Value qseg = op.getQuerySegments()) {
    q.segments = slice(qseg, {bIdx, q.start}, {one, q.size}, {1});
    std::tie(q.segFirst, q.segLast) = positionRange(q.segments);
  }
  return q;
}

KeyTile SdpaTiler::buildKeyTile(Value tileIndex) {
  KeyTile k;
  k.index = tileIndex;
  k.start = mulIndex(tileIndex, index(kvTile));
  k.size =
      minIndex(index(kvTile), arith::SubIOp::create(b, loc, sizeNk, k.start));
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  k.keys = slice(op.getKey(), {bIdx, kvHead, k.start, zero},
                 {one, one, k.size, b.getIndexAttr(headDim)}, {2, 3});
  k.values = slice(op.getValue(), {bIdx, kvHead, k.start, zero},
                   {one, one, k.size, b.getIndexAttr(valueDim)}, {2, 3});
  if (Value kpos = op.getKeyPositions()) {
    k.positions =
        slice(kpos, {bIdx, kPosHead, k.start}, {one, one, k.size}, {2});
    std::tie(k.first, k.last) = positionRange(k.positions);
  } else {
    k.first = toI64(k.start);
    k.last = arith::SubIOp::create(
        b, loc, toI64(arith::AddIOp::create(b, loc, k.start, k.size)), i64(1));
  }
  if (Value kseg = op.getKeySegments()) {
    k.segments = slice(kseg, {bIdx, k.start}, {one, k.size}, {1});
    std::tie(k.segFirst, k.segLast) = positionRange(k.segments);
  }
  return k;
}

KeyTile SdpaTiler::buildMemoryTile(Value tileIndex) {
  KeyTile k;
  Value numMemory = tensor::DimOp::create(b, loc, op.getMemoryKey(), 1);
  k.start = mulIndex(tileIndex, index(kvTile));
  k.size = minIndex(index(kvTile),
                    arith::SubIOp::create(b, loc, numMemory, k.start));
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  k.keys = slice(op.getMemoryKey(), {kvHead, k.start, zero},
                 {one, k.size, b.getIndexAttr(headDim)}, {1, 2});
  k.values = slice(op.getMemoryValue(), {kvHead, k.start, zero},
                   {one, k.size, b.getIndexAttr(valueDim)}, {1, 2});
  return k;
}

//===----------------------------------------------------------------------===//
// Key rows of sorted document ids
//===----------------------------------------------------------------------===//

/// Returns `[B]` i1: whether the key document ids of each batch are sorted
/// ascending (packed sequences), computed once before the tiles.
Value SdpaTiler::buildKeySegmentsSorted() {
  Value kseg = op.getKeySegments();
  // Pairs (j, j + 1) for j in [0, Nk - 1), none when Nk <= 1.
  Value pairs = arith::MaxSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, sizeNk, index(1)), index(0));
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  auto type = cast<RankedTensorType>(kseg.getType());
  OpFoldResult batch = getSizes(b, loc, kseg)[0];
  auto sliceAt = [&](OpFoldResult offset) -> Value {
    return tensor::ExtractSliceOp::create(
        b, loc,
        RankedTensorType::get({type.getDimSize(0), ShapedType::kDynamic},
                              type.getElementType()),
        kseg, ArrayRef<OpFoldResult>{zero, offset},
        ArrayRef<OpFoldResult>{batch, pairs}, ArrayRef<OpFoldResult>{one, one});
  };
  GenericBuilder gb{b, loc};
  Value init = gb.filled({batch}, b.getI1Type(), 1.0);
  // A static Nk of at most 1 is sorted (and a slice at offset 1 would not
  // verify).
  int64_t staticNk = type.getDimSize(1);
  if (!ShapedType::isDynamic(staticNk) && staticNk <= 1)
    return init;
  return gb.generic(
      ValueRange{sliceAt(zero), sliceAt(one)}, init,
      {gb.dims(2, {0, 1}), gb.dims(2, {0, 1}), gb.dims(2, {0})},
      gb.iterators(2, {1}), [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value inOrder = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::sle, attn::toI64(nb, nl, args[0]),
            attn::toI64(nb, nl, args[1]));
        yieldOne(nb, nl, arith::AndIOp::create(nb, nl, args[2], inOrder));
      });
}

/// Binary search in the sorted key ids of the current batch: the first row
/// whose id is >= `id` (or > `id` when `after`), Nk when there is none.
Value SdpaTiler::searchKeySegments(Value id, bool after) {
  Value kseg = op.getKeySegments();
  Type idx = b.getIndexType();
  auto loop = scf::WhileOp::create(
      b, loc, TypeRange{idx, idx}, ValueRange{index(0), sizeNk},
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value more = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ult,
                                           args[0], args[1]);
        scf::ConditionOp::create(nb, nl, more, args);
      },
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value mid = arith::ShRUIOp::create(
            nb, nl, arith::AddIOp::create(nb, nl, args[0], args[1]),
            arith::ConstantIndexOp::create(nb, nl, 1));
        Value value = attn::toI64(
            nb, nl,
            tensor::ExtractOp::create(nb, nl, kseg, ValueRange{bIdx, mid}));
        Value below = arith::CmpIOp::create(
            nb, nl, after ? arith::CmpIPredicate::sle : arith::CmpIPredicate::slt,
            value, id);
        Value next = arith::AddIOp::create(
            nb, nl, mid, arith::ConstantIndexOp::create(nb, nl, 1));
        scf::YieldOp::create(
            nb, nl,
            ValueRange{arith::SelectOp::create(nb, nl, below, next, args[0]),
                       arith::SelectOp::create(nb, nl, below, args[1], mid)});
      });
  return loop.getResult(0);
}

/// The rows (i64, inclusive) of the keys that may share a document with
/// the query tile: with sorted key ids, those whose id lies in the tile's id
/// range (found by binary search); otherwise every row.
std::pair<Value, Value> SdpaTiler::segmentKeyRows(const QueryTile &q) {
  Value sorted =
      tensor::ExtractOp::create(b, loc, keySegmentsSorted, ValueRange{bIdx});
  auto ifOp = scf::IfOp::create(
      b, loc, TypeRange{b.getI64Type(), b.getI64Type()}, sorted,
      /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value first = toI64(searchKeySegments(q.segFirst, /*after=*/false));
    Value end = toI64(searchKeySegments(q.segLast, /*after=*/true));
    scf::YieldOp::create(b, loc, ValueRange{first, arith::SubIOp::create(
                                                       b, loc, end, i64(1))});
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(
        b, loc,
        ValueRange{i64(0), arith::SubIOp::create(b, loc, numKeys, i64(1))});
  }
  return {ifOp.getResult(0), ifOp.getResult(1)};
}

//===----------------------------------------------------------------------===//
// What a pair of tiles holds
//===----------------------------------------------------------------------===//

/// The span weight of a pair at `distance` (`|qpos - kpos|`, compute type),
/// exactly as the reference computes it:
/// `clamp((ramp + z' - distance) / ramp, 0, 1)`.
Value SdpaTiler::buildSpanWeight(OpBuilder &nb, Location nl, Value distance) {
  Value zero = floatConst(nb, nl, 0.0), one = floatConst(nb, nl, 1.0);
  Value ramp = floatConst(nb, nl, op.getRampAttr().getValueAsDouble());
  Value m = arith::DivFOp::create(
      nb, nl,
      arith::SubFOp::create(nb, nl, arith::AddFOp::create(nb, nl, ramp, spanZ),
                            distance),
      ramp);
  return arith::MinimumFOp::create(
      nb, nl, arith::MaximumFOp::create(nb, nl, m, zero), one);
}

/// The kind of a (query tile, key tile) pair as an i8 BlockKind: the
/// pattern's, met with the span's (Empty where every weight is 0, Full
/// where every weight is 1), the document ids' (meetSegments) and
/// mask_mod's (meetMaskMod); with a mask, Full becomes Partial (the mask is
/// data that no classifier sees).
Value SdpaTiler::buildTileKind(const QueryTile &q, const KeyTile &k) {
  Value kind = pattern.buildClassify(b, loc, q.first, q.last, k.first, k.last,
                                     numQueries, numKeys, queryFacts);
  Type i8 = b.getI8Type();
  auto kindConst = [&](BlockKind kd) -> Value {
    return arith::ConstantIntOp::create(b, loc, i8, static_cast<int64_t>(kd));
  };
  auto isKind = [&](Value v, BlockKind kd) -> Value {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v,
                                 kindConst(kd));
  };
  if (op.getSpan()) {
    // qpos - kpos lies in [dMin, dMax]; the weight falls with |qpos - kpos|.
    Value dMin = arith::SubIOp::create(b, loc, q.first, k.last);
    Value dMax = arith::SubIOp::create(b, loc, q.last, k.first);
    auto abs = [&](Value v) -> Value {
      return arith::MaxSIOp::create(b, loc, v,
                                    arith::SubIOp::create(b, loc, i64(0), v));
    };
    Value crosses = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, dMin, i64(0)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, dMax, i64(0)));
    Value nearest = arith::SelectOp::create(
        b, loc, crosses, i64(0),
        arith::MinSIOp::create(b, loc, abs(dMin), abs(dMax)));
    Value farthest = arith::MaxSIOp::create(b, loc, abs(dMin), abs(dMax));
    auto weightAt = [&](Value d) {
      return buildSpanWeight(b, loc, arith::SIToFPOp::create(b, loc, ct, d));
    };
    Value anyLive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                              weightAt(nearest), floatConst(b, loc, 0.0));
    Value allOne =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                              weightAt(farthest), floatConst(b, loc, 1.0));
    // Meet: Empty if either is, Full if both are.
    Value empty = arith::OrIOp::create(
        b, loc, isKind(kind, BlockKind::Empty),
        arith::XOrIOp::create(
            b, loc, anyLive,
            arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)));
    Value full =
        arith::AndIOp::create(b, loc, isKind(kind, BlockKind::Full), allOne);
    kind = arith::SelectOp::create(
        b, loc, empty, kindConst(BlockKind::Empty),
        arith::SelectOp::create(b, loc, full, kindConst(BlockKind::Full),
                                kindConst(BlockKind::Partial)));
  }
  if (op.getQuerySegments())
    kind = meetSegments(kind, q, k);
  if (parts.maskMod)
    kind = meetMaskMod(kind, q, k);
  if (op.getMask())
    kind = arith::SelectOp::create(b, loc, isKind(kind, BlockKind::Full),
                                   kindConst(BlockKind::Partial), kind);
  return kind;
}

/// Meets `kind` with what the document ids allow: Empty when the id ranges
/// of the two tiles cannot meet, Full (if `kind` is) when both tiles hold
/// one and the same id, else Partial.
Value SdpaTiler::meetSegments(Value kind, const QueryTile &q,
                              const KeyTile &k) {
  Type i8 = b.getI8Type();
  auto kindConst = [&](BlockKind kd) -> Value {
    return arith::ConstantIntOp::create(b, loc, i8, static_cast<int64_t>(kd));
  };
  auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, p, x, y);
  };
  using P = arith::CmpIPredicate;
  Value apart = arith::OrIOp::create(b, loc, cmp(P::slt, q.segLast, k.segFirst),
                                     cmp(P::slt, k.segLast, q.segFirst));
  Value oneId = arith::AndIOp::create(
      b, loc,
      arith::AndIOp::create(b, loc, cmp(P::eq, q.segFirst, q.segLast),
                            cmp(P::eq, k.segFirst, k.segLast)),
      cmp(P::eq, q.segFirst, k.segFirst));
  Value empty = arith::OrIOp::create(
      b, loc, apart, cmp(P::eq, kind, kindConst(BlockKind::Empty)));
  Value full = arith::AndIOp::create(
      b, loc, oneId, cmp(P::eq, kind, kindConst(BlockKind::Full)));
  return arith::SelectOp::create(
      b, loc, empty, kindConst(BlockKind::Empty),
      arith::SelectOp::create(b, loc, full, kindConst(BlockKind::Full),
                              kindConst(BlockKind::Partial)));
}

//===----------------------------------------------------------------------===//
// One key tile
//===----------------------------------------------------------------------===//

/// A tile of a mask or bias operand (broadcast right-aligned to
/// [B, H, Nq, Nk]) for a pair of tiles, and its map from the tile's (r, c).
Value SdpaTiler::operandTile(Value operand, const QueryTile &q,
                             const KeyTile &k, AffineMap &map) {
  auto type = cast<RankedTensorType>(operand.getType());
  int64_t rank = type.getRank();
  if (rank == 0) {
    map = AffineMap::get(2, 0, {}, ctx);
    return operand;
  }
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> targetOffsets = {bIdx, hIdx, q.start, k.start};
  SmallVector<OpFoldResult> targetSizes = {one, one, q.size, k.size};
  SmallVector<OpFoldResult> offsets, sizes, strides(rank, one);
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t t = 4 - rank + d;
    bool broadcast = type.getDimSize(d) == 1;
    offsets.push_back(broadcast ? zero : targetOffsets[t]);
    sizes.push_back(broadcast ? one : targetSizes[t]);
    if (!broadcast && t >= 2)
      exprs.push_back(getAffineDimExpr(t - 2, ctx));
    else
      exprs.push_back(getAffineConstantExpr(0, ctx));
  }
  map = AffineMap::get(2, 0, exprs, ctx);
  return tensor::ExtractSliceOp::create(b, loc, operand, offsets, sizes,
                                        strides);
}

/// Applies score_mod to `s` at positions `qi`, `kj` (i64): the region is
/// cloned whole (ops with regions included), as the reference lowering does.
void SdpaTiler::inlineScoreMod(OpBuilder &nb, Location nl, Value &s, Value qi,
                               Value kj) {
  Value i = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), qi);
  Value j = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), kj);
  s = scoreMod(nb, nl, s, bIdx, hIdx, i, j);
}

/// The online-softmax step of one key tile of the given kind (Full or
/// Partial; Empty tiles never get here). A Full tile reads no position,
/// mask or span and evaluates no predicate.
tile::RowState SdpaTiler::buildKeyStep(BlockKind kind, const QueryTile &q,
                                       const KeyTile &k,
                                       const tile::RowState &state) {
  Value scores = buildScores(q, k.keys);
  bool partial = kind == BlockKind::Partial;
  bool natural = naturalScores();
  if (!partial && !natural)
    return tile::buildSoftmaxStep(b, loc, state, scores, Value(), k.values);

  // Per pair: bias, score_mod, log2(e); in Partial tiles also liveness,
  // masking and the span weight.
  bool needPositions = partial || !op.getScoreMod().empty();
  bool hasSpan = partial && op.getSpan();
  GenericBuilder gb{b, loc};
  AffineMap rc = gb.dims(2, {0, 1});
  SmallVector<Value> ins = {scores};
  SmallVector<AffineMap> maps = {rc};
  int qPosArg = -1, kPosArg = -1, biasArg = -1, maskArg = -1, qSegArg = -1,
      kSegArg = -1;
  auto addInput = [&](Value v, AffineMap m, int &slot) {
    slot = ins.size();
    ins.push_back(v);
    maps.push_back(m);
  };
  if (needPositions && q.positions) {
    addInput(q.positions, gb.dims(2, {0}), qPosArg);
    addInput(k.positions, gb.dims(2, {1}), kPosArg);
  }
  AffineMap operandMap;
  if (Value bias = op.getBias()) {
    Value t = operandTile(bias, q, k, operandMap);
    addInput(t, operandMap, biasArg);
  }
  if (partial && op.getMask()) {
    Value t = operandTile(op.getMask(), q, k, operandMap);
    addInput(t, operandMap, maskArg);
  }
  if (partial && q.segments) {
    addInput(q.segments, gb.dims(2, {0}), qSegArg);
    addInput(k.segments, gb.dims(2, {1}), kSegArg);
  }
  SmallVector<OpFoldResult> pairSizes = {q.size, k.size};
  bool hasScoreMod = !op.getScoreMod().empty();
  // The pairs of the tile: with `liveOnly` their liveness (i1), else the
  // scores, -inf where a Partial tile's pair is not live [, and the span
  // weight].
  auto buildPairs = [&](bool liveOnly) -> linalg::GenericOp {
    SmallVector<Value> outs;
    if (liveOnly) {
      outs.push_back(emptyTensor(b, loc, pairSizes, b.getI1Type()));
    } else {
      outs.push_back(emptyTensor(b, loc, pairSizes, ct));
      if (hasSpan)
        outs.push_back(emptyTensor(b, loc, pairSizes, ct));
    }
    SmallVector<AffineMap> pairMaps = maps;
    pairMaps.append(outs.size(), rc);
    return linalg::GenericOp::create(
        b, loc, TypeRange(ValueRange(outs)), ins, outs, pairMaps,
        parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value s = args[0], qi, kj;
          if (needPositions) {
            auto position = [&](int arg, Value start, unsigned dim) -> Value {
              if (arg >= 0)
                return attn::toI64(nb, nl, args[arg]);
              Value row = arith::AddIOp::create(
                  nb, nl, start, linalg::IndexOp::create(nb, nl, dim));
              return attn::toI64(nb, nl, row);
            };
            qi = position(qPosArg, q.start, 0);
            kj = position(kPosArg, k.start, 1);
          }
          if (!liveOnly) {
            if (biasArg >= 0)
              s = arith::AddFOp::create(
                  nb, nl, s, convertFloat(nb, nl, args[biasArg], ct));
            if (hasScoreMod)
              inlineScoreMod(nb, nl, s, qi, kj);
            if (natural)
              s = arith::MulFOp::create(nb, nl, s,
                                        floatConst(nb, nl, M_LOG2E));
          }
          if (!partial) {
            linalg::YieldOp::create(nb, nl, ValueRange{s});
            return;
          }
          Value live = pattern.buildIsLive(nb, nl, qi, kj, numQueries,
                                           numKeys, queryFacts);
          if (maskArg >= 0)
            live = arith::AndIOp::create(nb, nl, live, args[maskArg]);
          if (qSegArg >= 0)
            live = arith::AndIOp::create(
                nb, nl, live,
                arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                      attn::toI64(nb, nl, args[qSegArg]),
                                      attn::toI64(nb, nl, args[kSegArg])));
          if (parts.maskMod)
            live = arith::AndIOp::create(nb, nl, live,
                                         maskModLive(nb, nl, k, qi, kj));
          Value weight;
          if (hasSpan) {
            Value distance = math::AbsFOp::create(
                nb, nl,
                arith::SIToFPOp::create(
                    nb, nl, ct, arith::SubIOp::create(nb, nl, qi, kj)));
            weight = buildSpanWeight(nb, nl, distance);
            live = arith::AndIOp::create(
                nb, nl, live,
                arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT,
                                      weight, floatConst(nb, nl, 0.0)));
          }
          if (liveOnly) {
            linalg::YieldOp::create(nb, nl, ValueRange{live});
            return;
          }
          Value negInf =
              floatConst(nb, nl, -std::numeric_limits<double>::infinity());
          SmallVector<Value> results = {
              arith::SelectOp::create(nb, nl, live, s, negInf)};
          if (weight)
            results.push_back(weight);
          linalg::YieldOp::create(nb, nl, results);
        });
  };
  linalg::GenericOp pairOp = buildPairs(/*liveOnly=*/false);
  Value weight = hasSpan ? pairOp.getResult(1) : Value();
  if (!partial)
    return tile::buildSoftmaxStep(b, loc, state, pairOp.getResult(0), weight,
                                  k.values);
  return tile::buildSoftmaxStep(
      b, loc, state, pairOp.getResult(0), weight, k.values,
      [&] { return buildPairs(/*liveOnly=*/true).getResult(0); });
}

/// Persistent memory: always live, no pattern, mask, bias, span or
/// score_mod; tiled like the keys.