//===- Tile.cpp - attn-tile: attn.sdpa into the flash form ----------------===//
//
// Per (b, h, query tile), one iteration of an scf.forall:
//
//   state = (max = -inf, sum = 0, acc = 0)              [Tq], [Tq], [Tq, Dv]
//   for each tile of persistent memory:   state = step(memory scores)
//   for each key tile in the pattern's key intervals (all tiles with a
//   positions operand):
//     kind = classify(query position range, key position range),
//            met with the span's kind; Full becomes Partial with a mask
//     Empty:   skipped
//     Full:    state = step(scores [+ bias, score_mod])
//     Partial: state = step(live ? scores [+ bias, score_mod] : -inf),
//              live = pattern & mask & span weight > 0 (and the weight)
//   o = sum == 0 ? 0 : acc / sum,   lse = (shift + log2 sum) ln 2
//
// `step` is the online softmax of TileUtils.h. Scores are in the log2
// domain: log2(e) is folded into the scale of the query tile unless bias or
// score_mod need the natural score first. A position range is the tile's
// rows (i .. i + T - 1) or, with a positions operand, the minimum and
// maximum of its positions (computed at run time). Every size is dynamic,
// so one compiled form serves any length, tails included; no buffer of
// Nq x Nk elements is ever built.
//
//===----------------------------------------------------------------------===//
#include "TileUtils.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <limits>

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;

namespace {

/// A query tile: rows [start, start + size) of one (batch, head).
struct QueryTile {
  Value start, size;  // index
  Value scaled;       // [size, D] in the compute type: q * scale (* log2 e)
  Value positions;    // [size] slice of the positions operand, or null
  Value first, last;  // i64 position range
};

/// A key tile: keys [start, start + size) of one (batch, KV head), or of
/// the persistent memory.
struct KeyTile {
  Value start, size;  // index
  Value keys, values; // [size, D], [size, Dv] in the input element types
  Value positions;    // [size] slice of the positions operand, or null
  Value first, last;  // i64 position range
};

/// Builds the flash form of one attn.sdpa.
class SdpaTiler {
public:
  SdpaTiler(OpBuilder &b, SdpaOp op, int64_t qTile, int64_t kvTile,
            FloatType ct)
      : b(b), op(op), loc(op.getLoc()), ctx(op.getContext()), qTile(qTile),
        kvTile(kvTile), ct(ct), pattern(op.getPatternOrDense()) {}

  SmallVector<Value> run();

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i64(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }
  Value floatConst(OpBuilder &nb, Location nl, double v) {
    return arith::ConstantOp::create(nb, nl, nb.getFloatAttr(ct, v));
  }
  Value minIndex(Value a, Value c) {
    return arith::MinSIOp::create(b, loc, a, c);
  }
  Value mulIndex(Value a, Value c) {
    return arith::MulIOp::create(b, loc, a, c);
  }
  Value toI64(Value v) { return attn::toI64(b, loc, v); }
  Value toIndex(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  }
  /// Scores need the natural value before log2(e) is applied.
  bool naturalScores() {
    return op.getBias() || !op.getScoreMod().empty();
  }

  void emitRuntimeChecks();
  Value slice(Value source, ArrayRef<OpFoldResult> offsets,
              ArrayRef<OpFoldResult> sizes, ArrayRef<unsigned> kept);
  Value positionsHead(Value positions);
  std::pair<Value, Value> positionRange(Value positionsSlice);
  void buildHeadValues(Value bIdx, Value hIdx);
  QueryTile buildQueryTile(Value tileIndex);
  KeyTile buildKeyTile(Value tileIndex);
  KeyTile buildMemoryTile(Value tileIndex);
  SmallVector<std::pair<Value, Value>> keyTileRanges(const QueryTile &q);
  Value buildTileKind(const QueryTile &q, const KeyTile &k);
  Value buildSpanWeight(OpBuilder &nb, Location nl, Value distance);
  Value operandTile(Value operand, const QueryTile &q, const KeyTile &k,
                    AffineMap &map);
  void inlineScoreMod(OpBuilder &nb, Location nl, Value &s, Value qi,
                      Value kj);
  tile::RowState buildKeyStep(BlockKind kind, const QueryTile &q,
                              const KeyTile &k, const tile::RowState &state);
  tile::RowState buildMemoryLoop(const QueryTile &q, tile::RowState state);
  tile::RowState buildKeyLoop(const QueryTile &q, tile::RowState state);

  OpBuilder &b;
  SdpaOp op;
  Location loc;
  MLIRContext *ctx;
  int64_t qTile, kvTile;
  FloatType ct;
  PatternAttrInterface pattern;
  // Sizes (index) and lengths (i64).
  Value sizeB, sizeH, sizeHkv, sizeNq, sizeNk;
  int64_t headDim = 0, valueDim = 0;
  Value numQueries, numKeys;
  // Per (batch, head).
  Value bIdx, hIdx, kvHead, qPosHead, kPosHead, spanZ;
};

} // namespace

//===----------------------------------------------------------------------===//
// Whole op
//===----------------------------------------------------------------------===//

/// Emits cf.assert for the equalities the verifier could not check because
/// a dimension is dynamic (the same checks as the reference lowering).
void SdpaTiler::emitRuntimeChecks() {
  StringRef name = "attn.sdpa: ";
  assertQueryKeyValueSizes(b, loc, "attn.sdpa", op.getQuery(), op.getKey(),
                           op.getValue(), op.getInit());
  SmallVector<OpFoldResult> q = getSizes(b, loc, op.getQuery());
  SmallVector<OpFoldResult> k = getSizes(b, loc, op.getKey());
  SmallVector<OpFoldResult> target = {q[0], q[1], q[2], k[2]};
  for (Value operand : {op.getMask(), op.getBias()}) {
    if (!operand)
      continue;
    auto type = cast<RankedTensorType>(operand.getType());
    SmallVector<OpFoldResult> s = getSizes(b, loc, operand);
    int64_t rank = type.getRank();
    for (int64_t d = 0; d < rank; ++d)
      if (type.getDimSize(d) != 1)
        assertEqualSizes(b, loc, s[d], target[4 - rank + d],
                         name + (operand == op.getMask() ? "mask" : "bias") +
                             " does not broadcast to [B, H, Nq, Nk]");
  }
  if (Value mk = op.getMemoryKey()) {
    SmallVector<OpFoldResult> m = getSizes(b, loc, mk),
                              mv = getSizes(b, loc, op.getMemoryValue());
    assertEqualSizes(b, loc, m[0], k[1], name + "Hkv of memory keys differs");
    assertEqualSizes(b, loc, mv[0], k[1],
                     name + "Hkv of memory values differs");
    assertEqualSizes(b, loc, m[1], mv[1],
                     name + "M of memory keys and values differ");
  }
  for (auto [positions, seq] :
       {std::make_pair(op.getQueryPositions(), q[2]),
        std::make_pair(op.getKeyPositions(), k[2])}) {
    if (!positions)
      continue;
    SmallVector<OpFoldResult> p = getSizes(b, loc, positions);
    assertEqualSizes(b, loc, p[0], q[0], name + "B of positions differs");
    assertEqualSizes(b, loc, p[2], seq, name + "length of positions differs");
    Value heads = tensor::DimOp::create(b, loc, positions, 1);
    Value ok = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
    for (Value allowed : {index(1), sizeH, sizeHkv})
      ok = arith::OrIOp::create(
          b, loc, ok,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, heads,
                                allowed));
    cf::AssertOp::create(b, loc, ok,
                         "attn.sdpa: positions head dim is not 1, H or Hkv");
  }
  if (Value span = op.getSpan())
    assertEqualSizes(b, loc, getSizes(b, loc, span)[0], q[1],
                     name + "span is not [H]");
}

SmallVector<Value> SdpaTiler::run() {
  SmallVector<OpFoldResult> q = getSizes(b, loc, op.getQuery());
  SmallVector<OpFoldResult> k = getSizes(b, loc, op.getKey());
  sizeB = toIndexValue(b, loc, q[0]);
  sizeH = toIndexValue(b, loc, q[1]);
  sizeNq = toIndexValue(b, loc, q[2]);
  sizeHkv = toIndexValue(b, loc, k[1]);
  sizeNk = toIndexValue(b, loc, k[2]);
  headDim = cast<RankedTensorType>(op.getQuery().getType()).getDimSize(3);
  valueDim = cast<RankedTensorType>(op.getValue().getType()).getDimSize(3);
  numQueries = toI64(sizeNq);
  numKeys = toI64(sizeNk);
  emitRuntimeChecks();

  SmallVector<Value> outs = {op.getInit()};
  RankedTensorType lseType;
  if (Value lse = op.getLse()) {
    lseType = cast<RankedTensorType>(lse.getType());
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < 3; ++d)
      sizes.push_back(lseType.isDynamicDim(d)
                          ? q[d]
                          : OpFoldResult(b.getIndexAttr(lseType.getDimSize(d))));
    outs.push_back(emptyTensor(b, loc, sizes, lseType.getElementType()));
  }
  Value numQueryTiles =
      arith::CeilDivUIOp::create(b, loc, sizeNq, index(qTile));
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{sizeB, sizeH, numQueryTiles}, outs,
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  SmallVector<Value> ivs = llvm::to_vector(forall.getInductionVars());
  buildHeadValues(ivs[0], ivs[1]);
  QueryTile qt = buildQueryTile(ivs[2]);
  tile::RowState state = tile::buildInitialState(b, loc, qt.size, valueDim, ct);
  if (op.getMemoryKey())
    state = buildMemoryLoop(qt, state);
  state = buildKeyLoop(qt, state);

  Type outElt =
      cast<RankedTensorType>(op.getInit().getType()).getElementType();
  Value out = tile::buildNormalizedOutput(b, loc, state, outElt);
  Value lse;
  if (lseType)
    lse = tile::buildLogSumExp(b, loc, state, lseType.getElementType());

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  ValueRange shared = forall.getRegionIterArgs();
  tensor::ParallelInsertSliceOp::create(
      b, loc, out, shared[0],
      ArrayRef<OpFoldResult>{bIdx, hIdx, qt.start, zero},
      ArrayRef<OpFoldResult>{one, one, qt.size, b.getIndexAttr(valueDim)},
      ArrayRef<OpFoldResult>{one, one, one, one});
  if (lse)
    tensor::ParallelInsertSliceOp::create(
        b, loc, lse, shared[1], ArrayRef<OpFoldResult>{bIdx, hIdx, qt.start},
        ArrayRef<OpFoldResult>{one, one, qt.size},
        ArrayRef<OpFoldResult>{one, one, one});
  return SmallVector<Value>(forall.getResults());
}

//===----------------------------------------------------------------------===//
// Slices and positions
//===----------------------------------------------------------------------===//

/// A rank-reduced slice of `source` keeping the dims `kept`.
Value SdpaTiler::slice(Value source, ArrayRef<OpFoldResult> offsets,
                       ArrayRef<OpFoldResult> sizes, ArrayRef<unsigned> kept) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<int64_t> shape;
  for (unsigned d : kept)
    shape.push_back(getConstantIntValue(sizes[d]).value_or(ShapedType::kDynamic));
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), source,
      offsets, sizes, strides);
}

/// Returns the head of a positions operand `[B, 1 | H | Hkv, N]` that the
/// current query head reads.
Value SdpaTiler::positionsHead(Value positions) {
  Value heads = tensor::DimOp::create(b, loc, positions, 1);
  Value isOne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, heads,
                                      index(1));
  Value isH = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, heads,
                                    sizeH);
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
      b, loc, TypeRange{lo.getType(), hi.getType()},
      ValueRange{positionsSlice}, ValueRange{lo, hi},
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
  kvHead = arith::DivUIOp::create(
      b, loc, hIdx, arith::DivUIOp::create(b, loc, sizeH, sizeHkv));
  if (Value qpos = op.getQueryPositions()) {
    qPosHead = positionsHead(qpos);
    kPosHead = positionsHead(op.getKeyPositions());
  }
  if (Value span = op.getSpan()) {
    Value z = convertFloat(
        b, loc, tensor::ExtractOp::create(b, loc, span, ValueRange{hIdx}), ct);
    Value maxSpan =
        floatConst(b, loc, op.getMaxSpanAttr().getValueAsDouble());
    spanZ = arith::MinimumFOp::create(
        b, loc, arith::MaximumFOp::create(b, loc, z, floatConst(b, loc, 0.0)),
        maxSpan);
  }
}

QueryTile SdpaTiler::buildQueryTile(Value tileIndex) {
  QueryTile q;
  q.start = mulIndex(tileIndex, index(qTile));
  q.size = minIndex(index(qTile),
                    arith::SubIOp::create(b, loc, sizeNq, q.start));
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  Value raw = slice(op.getQuery(), {bIdx, hIdx, q.start, zero},
                    {one, one, q.size, b.getIndexAttr(headDim)}, {2, 3});
  double scale = op.getScaleOrDefault();
  if (!naturalScores())
    scale *= M_LOG2E;
  Value factor = floatConst(b, loc, scale);
  GenericBuilder gb{b, loc};
  AffineMap id = gb.dims(2, {0, 1});
  q.scaled = gb.generic(
      ValueRange{raw},
      emptyTensor(b, loc, {q.size, b.getIndexAttr(headDim)}, ct), {id, id},
      parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange args) {
        yieldOne(nb, nl,
                 arith::MulFOp::create(nb, nl,
                                       convertFloat(nb, nl, args[0], ct),
                                       factor));
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
  return q;
}

KeyTile SdpaTiler::buildKeyTile(Value tileIndex) {
  KeyTile k;
  k.start = mulIndex(tileIndex, index(kvTile));
  k.size = minIndex(index(kvTile),
                    arith::SubIOp::create(b, loc, sizeNk, k.start));
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
// Which key tiles, and what each holds
//===----------------------------------------------------------------------===//

/// Returns (first tile, number of tiles) index pairs, one per key interval
/// of the query tile's positions; without positions key position j is row j,
/// so the intervals map to tile ranges. With positions, every tile.
SmallVector<std::pair<Value, Value>>
SdpaTiler::keyTileRanges(const QueryTile &q) {
  Value numTiles = arith::CeilDivUIOp::create(b, loc, sizeNk, index(kvTile));
  if (op.getKeyPositions())
    return {{index(0), numTiles}};
  SmallVector<std::pair<Value, Value>> ranges;
  Value tileSize = i64(kvTile);
  for (auto [first, last] :
       pattern.buildKeyIntervals(b, loc, q.first, q.last, numQueries,
                                 numKeys)) {
    Value lo = arith::MaxSIOp::create(b, loc, first, i64(0));
    Value hi = arith::MinSIOp::create(
        b, loc, last, arith::SubIOp::create(b, loc, numKeys, i64(1)));
    Value nonEmpty =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, lo, hi);
    Value begin = arith::DivSIOp::create(b, loc, lo, tileSize);
    Value end = arith::AddIOp::create(
        b, loc, arith::DivSIOp::create(b, loc, hi, tileSize), i64(1));
    Value count = arith::SelectOp::create(
        b, loc, nonEmpty, arith::SubIOp::create(b, loc, end, begin), i64(0));
    begin = arith::SelectOp::create(b, loc, nonEmpty, begin, i64(0));
    ranges.push_back({toIndex(begin), toIndex(count)});
  }
  return ranges;
}

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
/// where every weight is 1); with a mask, Full becomes Partial (the mask is
/// data that no classifier sees).
Value SdpaTiler::buildTileKind(const QueryTile &q, const KeyTile &k) {
  Value kind = pattern.buildClassify(b, loc, q.first, q.last, k.first, k.last,
                                     numQueries, numKeys);
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
      return arith::MaxSIOp::create(
          b, loc, v, arith::SubIOp::create(b, loc, i64(0), v));
    };
    Value crosses = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, dMin, i64(0)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, dMax,
                              i64(0)));
    Value nearest = arith::SelectOp::create(
        b, loc, crosses, i64(0),
        arith::MinSIOp::create(b, loc, abs(dMin), abs(dMax)));
    Value farthest = arith::MaxSIOp::create(b, loc, abs(dMin), abs(dMax));
    auto weightAt = [&](Value d) {
      return buildSpanWeight(b, loc, arith::SIToFPOp::create(b, loc, ct, d));
    };
    Value anyLive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                          weightAt(nearest),
                                          floatConst(b, loc, 0.0));
    Value allOne = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                         weightAt(farthest),
                                         floatConst(b, loc, 1.0));
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
  if (op.getMask())
    kind = arith::SelectOp::create(b, loc, isKind(kind, BlockKind::Full),
                                   kindConst(BlockKind::Partial), kind);
  return kind;
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

/// Inlines the score_mod region: %s, %b, %h, %i, %j -> the yielded score.
void SdpaTiler::inlineScoreMod(OpBuilder &nb, Location nl, Value &s, Value qi,
                               Value kj) {
  Block &block = op.getScoreMod().front();
  IRMapping mapping;
  mapping.map(block.getArgument(0), convertFloat(nb, nl, s, nb.getF32Type()));
  mapping.map(block.getArgument(1), bIdx);
  mapping.map(block.getArgument(2), hIdx);
  mapping.map(block.getArgument(3),
              arith::IndexCastOp::create(nb, nl, nb.getIndexType(), qi));
  mapping.map(block.getArgument(4),
              arith::IndexCastOp::create(nb, nl, nb.getIndexType(), kj));
  for (Operation &inner : block.without_terminator())
    nb.clone(inner, mapping);
  Value yielded = mapping.lookupOrDefault(block.getTerminator()->getOperand(0));
  s = convertFloat(nb, nl, yielded, ct);
}

/// The online-softmax step of one key tile of the given kind (Full or
/// Partial; Empty tiles never get here). A Full tile reads no position,
/// mask or span and evaluates no predicate.
tile::RowState SdpaTiler::buildKeyStep(BlockKind kind, const QueryTile &q,
                                       const KeyTile &k,
                                       const tile::RowState &state) {
  Value scores = tile::buildScoreTile(b, loc, q.scaled, k.keys, ct);
  bool partial = kind == BlockKind::Partial;
  bool natural = naturalScores();
  if (!partial && !natural)
    return tile::buildSoftmaxStep(b, loc, state, scores, Value(), Value(),
                                  k.values);

  // Per pair: bias, score_mod, log2(e); in Partial tiles also liveness,
  // masking and the span weight.
  bool needPositions = partial || !op.getScoreMod().empty();
  bool hasSpan = partial && op.getSpan();
  GenericBuilder gb{b, loc};
  AffineMap rc = gb.dims(2, {0, 1});
  SmallVector<Value> ins = {scores};
  SmallVector<AffineMap> maps = {rc};
  int qPosArg = -1, kPosArg = -1, biasArg = -1, maskArg = -1;
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
  SmallVector<OpFoldResult> pairSizes = {q.size, k.size};
  SmallVector<Value> outs = {emptyTensor(b, loc, pairSizes, ct)};
  if (partial)
    outs.push_back(emptyTensor(b, loc, pairSizes, b.getI1Type()));
  if (hasSpan)
    outs.push_back(emptyTensor(b, loc, pairSizes, ct));
  maps.append(outs.size(), rc);
  bool hasScoreMod = !op.getScoreMod().empty();
  auto pairOp = linalg::GenericOp::create(
      b, loc, TypeRange(ValueRange(outs)), ins, outs, maps,
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
        if (biasArg >= 0)
          s = arith::AddFOp::create(nb, nl, s,
                                    convertFloat(nb, nl, args[biasArg], ct));
        if (hasScoreMod)
          inlineScoreMod(nb, nl, s, qi, kj);
        if (natural)
          s = arith::MulFOp::create(nb, nl, s, floatConst(nb, nl, M_LOG2E));
        SmallVector<Value> results;
        if (!partial) {
          linalg::YieldOp::create(nb, nl, ValueRange{s});
          return;
        }
        Value live =
            pattern.buildIsLive(nb, nl, qi, kj, numQueries, numKeys);
        if (maskArg >= 0)
          live = arith::AndIOp::create(nb, nl, live, args[maskArg]);
        Value weight;
        if (hasSpan) {
          Value distance = math::AbsFOp::create(
              nb, nl,
              arith::SIToFPOp::create(nb, nl, ct,
                                      arith::SubIOp::create(nb, nl, qi, kj)));
          weight = buildSpanWeight(nb, nl, distance);
          live = arith::AndIOp::create(
              nb, nl, live,
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, weight,
                                    floatConst(nb, nl, 0.0)));
        }
        Value negInf =
            floatConst(nb, nl, -std::numeric_limits<double>::infinity());
        results.push_back(arith::SelectOp::create(nb, nl, live, s, negInf));
        results.push_back(live);
        if (weight)
          results.push_back(weight);
        linalg::YieldOp::create(nb, nl, results);
      });
  Value live = partial ? pairOp.getResult(1) : Value();
  Value weight = hasSpan ? pairOp.getResult(2) : Value();
  return tile::buildSoftmaxStep(b, loc, state, pairOp.getResult(0), live,
                                weight, k.values);
}

/// Persistent memory: always live, no pattern, mask, bias, span or
/// score_mod; tiled like the keys.
tile::RowState SdpaTiler::buildMemoryLoop(const QueryTile &q,
                                          tile::RowState state) {
  Value numMemory = tensor::DimOp::create(b, loc, op.getMemoryKey(), 1);
  Value numTiles = arith::CeilDivUIOp::create(b, loc, numMemory, index(kvTile));
  auto loop = scf::ForOp::create(
      b, loc, index(0), numTiles, index(1),
      ValueRange{state.max, state.sum, state.acc},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        KeyTile k = buildMemoryTile(iv);
        Value scores = tile::buildScoreTile(b, loc, q.scaled, k.keys, ct);
        if (naturalScores()) {
          GenericBuilder gb{b, loc};
          AffineMap rc = gb.dims(2, {0, 1});
          scores = gb.generic(
              ValueRange{scores},
              emptyTensor(b, loc, tensor::getMixedSizes(b, loc, scores), ct),
              {rc, rc}, parallelIterators(2),
              [&](OpBuilder &gbb, Location gl, ValueRange a) {
                yieldOne(gbb, gl,
                         arith::MulFOp::create(gbb, gl, a[0],
                                               floatConst(gbb, gl, M_LOG2E)));
              });
        }
        tile::RowState next = tile::buildSoftmaxStep(
            b, loc, {args[0], args[1], args[2]}, scores, Value(), Value(),
            k.values);
        scf::YieldOp::create(b, loc,
                             ValueRange{next.max, next.sum, next.acc});
      });
  return {loop.getResult(0), loop.getResult(1), loop.getResult(2)};
}

/// The loop over the key tiles of the query tile's key intervals. The
/// intervals are laid end to end in one iteration space; a tile that an
/// earlier interval already covers is skipped, so none is visited twice.
tile::RowState SdpaTiler::buildKeyLoop(const QueryTile &q,
                                       tile::RowState state) {
  SmallVector<std::pair<Value, Value>> ranges = keyTileRanges(q);
  // prefix[r] = number of tiles in ranges before r.
  SmallVector<Value> prefix = {index(0)};
  for (auto &range : ranges)
    prefix.push_back(arith::AddIOp::create(b, loc, prefix.back(), range.second));
  SmallVector<Type> stateTypes = {state.max.getType(), state.sum.getType(),
                                  state.acc.getType()};
  auto loop = scf::ForOp::create(
      b, loc, index(0), prefix.back(), index(1),
      ValueRange{state.max, state.sum, state.acc},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        // The tile of iteration iv, and whether an earlier range holds it.
        size_t n = ranges.size();
        Value tileIndex = arith::AddIOp::create(
            b, loc, ranges[n - 1].first,
            arith::SubIOp::create(b, loc, iv, prefix[n - 1]));
        for (size_t r = n - 1; r-- > 0;) {
          Value inR = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            iv, prefix[r + 1]);
          Value t = arith::AddIOp::create(
              b, loc, ranges[r].first,
              arith::SubIOp::create(b, loc, iv, prefix[r]));
          tileIndex = arith::SelectOp::create(b, loc, inR, t, tileIndex);
        }
        Value seen = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
        for (size_t r = 0; r + 1 < n; ++r) {
          Value later = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::uge, iv, prefix[r + 1]);
          Value end =
              arith::AddIOp::create(b, loc, ranges[r].first, ranges[r].second);
          Value inside = arith::AndIOp::create(
              b, loc,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                    tileIndex, ranges[r].first),
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                    tileIndex, end));
          seen = arith::OrIOp::create(b, loc, seen,
                                      arith::AndIOp::create(b, loc, later,
                                                            inside));
        }
        KeyTile k = buildKeyTile(tileIndex);
        Value kind = buildTileKind(q, k);
        if (n > 1)
          kind = arith::SelectOp::create(
              b, loc, seen,
              arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0), kind);
        auto dispatch = scf::IndexSwitchOp::create(
            b, loc, stateTypes, toIndex(kind),
            ArrayRef<int64_t>{static_cast<int64_t>(BlockKind::Empty),
                              static_cast<int64_t>(BlockKind::Full)},
            2);
        tile::RowState current = {args[0], args[1], args[2]};
        auto fill = [&](Region &region, std::optional<BlockKind> stepKind) {
          b.setInsertionPointToStart(&region.emplaceBlock());
          tile::RowState next = current;
          if (stepKind)
            next = buildKeyStep(*stepKind, q, k, current);
          SmallVector<Value> values = {next.max, next.sum, next.acc};
          SmallVector<Value> results;
          for (auto [value, type] : llvm::zip_equal(values, stateTypes))
            results.push_back(value.getType() == type
                                  ? value
                                  : tensor::CastOp::create(b, loc, type, value)
                                        .getResult());
          scf::YieldOp::create(b, loc, results);
        };
        fill(dispatch.getCaseRegions()[0], std::nullopt);
        fill(dispatch.getCaseRegions()[1], BlockKind::Full);
        fill(dispatch.getDefaultRegion(), BlockKind::Partial);
        b.setInsertionPointAfter(dispatch);
        scf::YieldOp::create(b, loc, dispatch.getResults());
      });
  return {loop.getResult(0), loop.getResult(1), loop.getResult(2)};
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {
struct AttnTilePass : public attn::impl::AttnTileBase<AttnTilePass> {
  using Base::Base;
  void runOnOperation() override {
    FloatType type;
    if (computeType == "f32")
      type = Float32Type::get(&getContext());
    else if (computeType == "f64")
      type = Float64Type::get(&getContext());
    else {
      getOperation()->emitError()
          << "attn-tile: compute-type must be f32 or f64, but got '"
          << computeType << "'";
      return signalPassFailure();
    }
    if (qTile < 1 || kvTile < 1) {
      getOperation()->emitError()
          << "attn-tile: q-tile and kv-tile must be at least 1, but got "
          << qTile << " and " << kvTile;
      return signalPassFailure();
    }
    SmallVector<SdpaOp> targets;
    getOperation()->walk([&](SdpaOp op) { targets.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (SdpaOp op : targets) {
      if (!op.getScoreMod().empty()) {
        for (Operation &inner : op.getScoreMod().front().without_terminator())
          if (inner.getNumRegions() != 0 || !isPure(&inner)) {
            op.emitOpError("score_mod: only region-free pure ops can be "
                           "tiled, but found ")
                << inner.getName();
            return signalPassFailure();
          }
      }
      rewriter.setInsertionPoint(op);
      SmallVector<Value> results =
          SdpaTiler(rewriter, op, qTile, kvTile, type).run();
      rewriter.replaceOp(op, results);
    }
  }
};
} // namespace
