//===- SdpaSplitKv.cpp - split-KV: PartialReductionOpInterface of sdpa ----===//
//
// Tiling the key dimension of attn.sdpa (the reduction of its iteration
// domain) is split-KV. Each key split s is an attn.sdpa on keys
// [k_s, k_s + n_s) with an lse result: a partial output o_s (normalised over
// its keys) and lse_s (-inf when none of its keys is live). The partial
// state is
//
//   O [B, H, Nq, Dv, S]  (the result's element type, 0)
//   L [B, H, Nq, S]      (f32, -inf)
//
// with S the number of splits (tile_reduction_using_forall) or the tile
// size (tile_reduction_using_for, which uses slot 0 only: each key tile is
// merged into it as it comes). The merge is the log-sum-exp of the splits:
//
//   m = max_s lse_s,  w_s = exp(lse_s - m)  (0 when m = -inf),
//   o = sum_s w_s o_s / sum_s w_s  (0 when no split has a live key),
//   lse = m + log sum_s w_s  (-inf likewise),
//
// in f32. The key tile is built by buildSdpaTile (SdpaTile.cpp), which
// keeps mask, bias, positions, segments, GQA and score_mod global, and
// rewrites a random pattern (which draws from the whole op's key blocks) as
// the block_sparse layout it selects (static Nq and Nk, no positions
// operands; otherwise the split is refused with a diagnostic). Memory keys
// are left out of every split: the merge computes their part once (the op
// on zero keys, buildSdpaMemoryPart) and merges it with the splits' like
// one more split.
//
//===----------------------------------------------------------------------===//
#include "SdpaTiling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Interfaces/TilingInterface.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

namespace {

/// Small builders of the f32 merge arithmetic.
struct MergeBuilder {
  OpBuilder &b;
  Location loc;

  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  Value filled(ArrayRef<OpFoldResult> shape, Type type, Value value) {
    Value empty = tensor::EmptyOp::create(b, loc, shape, type);
    return linalg::FillOp::create(b, loc, value, empty).getResult(0);
  }
  /// `v` (a float of any width) as f32, and back.
  static Value widen(OpBuilder &nb, Location nl, Value v) {
    return v.getType().isF32()
               ? v
               : arith::ExtFOp::create(nb, nl, nb.getF32Type(), v).getResult();
  }
  static Value narrow(OpBuilder &nb, Location nl, Value v, Type type) {
    return type.isF32() ? v
                        : arith::TruncFOp::create(nb, nl, type, v).getResult();
  }
  /// exp(l - m), or 0 when m is -inf (then l is -inf too).
  static Value weight(OpBuilder &nb, Location nl, Value l, Value m) {
    Value ninf = arith::ConstantOp::create(
        nb, nl, nb.getF32FloatAttr(-std::numeric_limits<double>::infinity()));
    Value none =
        arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, m, ninf);
    Value w = math::ExpOp::create(nb, nl, arith::SubFOp::create(nb, nl, l, m));
    Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0.0));
    return arith::SelectOp::create(nb, nl, none, zero, w);
  }
  /// A generic with `ins`, `outs` and maps over `iterators`.
  Value generic(ValueRange ins, Value out, ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> iterators,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    auto op = linalg::GenericOp::create(
        b, loc, out.getType(), ins, ValueRange{out}, maps, iterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl, body(nb, nl, args));
        });
    return op.getResult(0);
  }
  AffineMap map(unsigned numDims, ArrayRef<unsigned> results) {
    return AffineMap::getMultiDimIdentityMap(numDims, b.getContext())
        .getSubMap(results);
  }
};

SmallVector<utils::IteratorType> iterators(unsigned parallel, bool reduction) {
  SmallVector<utils::IteratorType> types(parallel,
                                         utils::IteratorType::parallel);
  if (reduction)
    types.push_back(utils::IteratorType::reduction);
  return types;
}

/// (o, lse) of the running state merged with those of one more key tile,
/// elementwise (tile_reduction_using_for).
std::pair<Value, Value> mergeTwo(OpBuilder &b, Location loc, Value prevO,
                                 Value prevLse, Value o, Value lse) {
  MergeBuilder mb{b, loc};
  auto both = [](OpBuilder &nb, Location nl, Value pl, Value l) {
    Value m = arith::MaximumFOp::create(nb, nl, pl, l);
    return std::make_tuple(m, MergeBuilder::weight(nb, nl, pl, m),
                           MergeBuilder::weight(nb, nl, l, m));
  };
  Type oType = cast<RankedTensorType>(o.getType()).getElementType();
  Value newO = mb.generic(
      {prevO, prevLse, o, lse},
      tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, o), oType),
      {mb.map(4, {0, 1, 2, 3}), mb.map(4, {0, 1, 2}), mb.map(4, {0, 1, 2, 3}),
       mb.map(4, {0, 1, 2}), mb.map(4, {0, 1, 2, 3})},
      iterators(4, false), [&](OpBuilder &nb, Location nl, ValueRange a) {
        auto [m, wp, wc] = both(nb, nl, a[1], a[3]);
        Value sum = arith::AddFOp::create(nb, nl, wp, wc);
        Value num = arith::AddFOp::create(
            nb, nl,
            arith::MulFOp::create(nb, nl, wp,
                                  MergeBuilder::widen(nb, nl, a[0])),
            arith::MulFOp::create(nb, nl, wc,
                                  MergeBuilder::widen(nb, nl, a[2])));
        Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0));
        Value empty =
            arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, sum, zero);
        Value v = arith::SelectOp::create(
            nb, nl, empty, zero, arith::DivFOp::create(nb, nl, num, sum));
        return MergeBuilder::narrow(nb, nl, v, a[4].getType());
      });
  Value newLse = mb.generic(
      {prevLse, lse},
      tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, lse),
                              b.getF32Type()),
      {mb.map(3, {0, 1, 2}), mb.map(3, {0, 1, 2}), mb.map(3, {0, 1, 2})},
      iterators(3, false), [&](OpBuilder &nb, Location nl, ValueRange a) {
        auto [m, wp, wc] = both(nb, nl, a[0], a[1]);
        Value sum = arith::AddFOp::create(nb, nl, wp, wc);
        Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0));
        Value empty =
            arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, sum, zero);
        Value v =
            arith::AddFOp::create(nb, nl, m, math::LogOp::create(nb, nl, sum));
        return arith::SelectOp::create(nb, nl, empty, m, v).getResult();
      });
  return {newO, newLse};
}

/// The split-KV form of attn.sdpa.
struct SdpaPartialReductionModel
    : public PartialReductionOpInterface::ExternalModel<
          SdpaPartialReductionModel, SdpaOp> {
  static LogicalResult checkDims(Operation *op,
                                 const SetVector<unsigned> &reductionDims) {
    if (reductionDims.size() == 1 && reductionDims[0] == 3)
      return success();
    return op->emitOpError("splits only its key dimension (3) as a "
                           "reduction; dims 0 to 2 are parallel");
  }

  static int64_t valueDim(SdpaOp op) {
    return op.getValue().getType().getDimSize(3);
  }

  FailureOr<SmallVector<Value>> generateInitialTensorForPartialReduction(
      Operation *op, OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
      const SetVector<unsigned> &reductionDims) const {
    if (failed(checkDims(op, reductionDims)))
      return failure();
    auto sdpa = cast<SdpaOp>(op);
    MergeBuilder mb{b, loc};
    Type oType = sdpa.getInit().getType().getElementType();
    Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(oType, 0.0));
    Value o = mb.filled({sizes[0], sizes[1], sizes[2],
                         b.getIndexAttr(valueDim(sdpa)), sizes[3]},
                        oType, zero);
    Value lse = mb.filled({sizes[0], sizes[1], sizes[2], sizes[3]},
                          b.getF32Type(), mb.negInf());
    return SmallVector<Value>{o, lse};
  }

  FailureOr<TilingResult> tileToPartialReduction(
      Operation *op, OpBuilder &b, Location loc,
      ReductionTilingStrategy strategy, ValueRange init,
      ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
      const SetVector<unsigned> &reductionDims, ArrayRef<OpFoldResult>) const {
    if (failed(checkDims(op, reductionDims)))
      return failure();
    auto sdpa = cast<SdpaOp>(op);
    FailureOr<SdpaTileOp> tile =
        buildSdpaTile(b, sdpa, offsets, sizes, /*keySplit=*/true);
    if (failed(tile))
      return failure();
    Value o = tile->op.getResult(), lse = tile->op.getLse();
    if (strategy == ReductionTilingStrategy::PartialReductionOuterParallel)
      return TilingResult{{tile->op}, {o, lse}, tile->slices};

    // One loop over key tiles: merge this tile into slot 0.
    SmallVector<OpFoldResult> oOff, oSize, lOff, lSize;
    positions(b, sdpa, offsets, sizes, b.getIndexAttr(0), oOff, oSize, lOff,
              lSize);
    OpFoldResult one = b.getIndexAttr(1);
    auto prevO = tensor::ExtractSliceOp::create(
        b, loc, cast<RankedTensorType>(o.getType()), init[0], oOff, oSize,
        SmallVector<OpFoldResult>(5, one));
    auto prevLse = tensor::ExtractSliceOp::create(
        b, loc, cast<RankedTensorType>(lse.getType()), init[1], lOff, lSize,
        SmallVector<OpFoldResult>(4, one));
    auto [newO, newLse] = mergeTwo(b, loc, prevO, prevLse, o, lse);
    SmallVector<Operation *> slices = tile->slices;
    slices.push_back(prevO);
    slices.push_back(prevLse);
    // The sdpa is the tiled op (transform handles expect one).
    return TilingResult{{tile->op}, {newO, newLse}, slices};
  }

  /// Where a split's (o, lse) goes in the partial state: at `slot` of the
  /// split dimension.
  static void positions(OpBuilder &b, SdpaOp op, ArrayRef<OpFoldResult> offsets,
                        ArrayRef<OpFoldResult> sizes, OpFoldResult slot,
                        SmallVector<OpFoldResult> &oOff,
                        SmallVector<OpFoldResult> &oSize,
                        SmallVector<OpFoldResult> &lOff,
                        SmallVector<OpFoldResult> &lSize) {
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    lOff = {offsets[0], offsets[1], offsets[2], slot};
    lSize = {sizes[0], sizes[1], sizes[2], one};
    oOff = {offsets[0], offsets[1], offsets[2], zero, slot};
    oSize = {sizes[0], sizes[1], sizes[2], b.getIndexAttr(valueDim(op)), one};
  }

  LogicalResult getPartialResultTilePosition(
      Operation *op, OpBuilder &b, unsigned resultNumber,
      ReductionTilingStrategy strategy, ArrayRef<OpFoldResult> offsets,
      ArrayRef<OpFoldResult> sizes, const SetVector<unsigned> &reductionDims,
      ArrayRef<OpFoldResult> splitReductionIvs,
      SmallVector<OpFoldResult> &resultOffsets,
      SmallVector<OpFoldResult> &resultSizes) const {
    if (failed(checkDims(op, reductionDims)))
      return failure();
    OpFoldResult slot =
        strategy == ReductionTilingStrategy::PartialReductionOuterParallel
            ? splitReductionIvs[0]
            : b.getIndexAttr(0);
    SmallVector<OpFoldResult> oOff, oSize, lOff, lSize;
    positions(b, cast<SdpaOp>(op), offsets, sizes, slot, oOff, oSize, lOff,
              lSize);
    resultOffsets = resultNumber == 0 ? oOff : lOff;
    resultSizes = resultNumber == 0 ? oSize : lSize;
    return success();
  }

  FailureOr<MergeResult>
  mergeReductions(Operation *op, OpBuilder &b, Location loc, ValueRange partial,
                  const SetVector<unsigned> &reductionDims) const {
    if (failed(checkDims(op, reductionDims)))
      return failure();
    auto sdpa = cast<SdpaOp>(op);
    MergeBuilder mb{b, loc};
    Value accO = partial[0], accLse = partial[1];
    SmallVector<OpFoldResult> rows =
        tensor::getMixedSizes(b, loc, accLse); // [B, H, Nq, S]
    rows.pop_back();
    auto red3 = iterators(3, true);
    AffineMap rows4 = mb.map(4, {0, 1, 2}), all4 = mb.map(4, {0, 1, 2, 3});
    Value max = mb.generic(
        {accLse}, mb.filled(rows, b.getF32Type(), mb.negInf()), {all4, rows4},
        red3, [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          return arith::MaximumFOp::create(nb, nl, a[0], a[1]);
        });
    Value sum = mb.generic(
        {accLse, max}, mb.filled(rows, b.getF32Type(), mb.f32(0)),
        {all4, rows4, rows4}, red3,
        [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          return arith::AddFOp::create(
              nb, nl, a[2], MergeBuilder::weight(nb, nl, a[0], a[1]));
        });
    // o = sum_s w_s o_s / sum, over (b, h, i, d, s).
    SmallVector<OpFoldResult> outShape = rows;
    outShape.push_back(b.getIndexAttr(valueDim(sdpa)));
    AffineMap rows5 = mb.map(5, {0, 1, 2}), lse5 = mb.map(5, {0, 1, 2, 4});
    Value o = mb.generic(
        {accO, accLse, max, sum},
        mb.filled(outShape, b.getF32Type(), mb.f32(0)),
        {mb.map(5, {0, 1, 2, 3, 4}), lse5, rows5, rows5,
         mb.map(5, {0, 1, 2, 3})},
        iterators(4, true), [](OpBuilder &nb, Location nl, ValueRange a) {
          Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0));
          Value none = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ,
                                             a[3], zero);
          Value w = arith::DivFOp::create(
              nb, nl, MergeBuilder::weight(nb, nl, a[1], a[2]), a[3]);
          w = arith::SelectOp::create(nb, nl, none, zero, w);
          Value term = arith::MulFOp::create(nb, nl, w,
                                             MergeBuilder::widen(nb, nl, a[0]));
          return arith::AddFOp::create(nb, nl, a[4], term).getResult();
        });
    // lse = m + log sum (-inf when no split has a live key).
    auto splitsLse = [&]() {
      AffineMap id3 = mb.map(3, {0, 1, 2});
      return mb.generic(
          {max, sum}, tensor::EmptyOp::create(b, loc, rows, b.getF32Type()),
          {id3, id3, id3}, iterators(3, false),
          [](OpBuilder &nb, Location nl, ValueRange a) {
            Value zero =
                arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0));
            Value none = arith::CmpFOp::create(
                nb, nl, arith::CmpFPredicate::OEQ, a[1], zero);
            Value v = arith::AddFOp::create(nb, nl, a[0],
                                            math::LogOp::create(nb, nl, a[1]));
            return arith::SelectOp::create(nb, nl, none, a[0], v).getResult();
          });
    };
    Value lse;
    if (sdpa.getMemoryKey()) {
      // The memory keys, left out of every split, count once: their own
      // (o, lse) merged with those of the splits.
      FailureOr<SdpaOp> memory = buildSdpaMemoryPart(b, sdpa);
      if (failed(memory))
        return failure();
      std::tie(o, lse) = mergeTwo(b, loc, memory->getResult(),
                                  memory->getLse(), o, splitsLse());
    }
    // Into the op's destination, in its element type.
    AffineMap id4 = mb.map(4, {0, 1, 2, 3});
    Value result =
        mb.generic({o}, sdpa.getInit(), {id4, id4}, iterators(4, false),
                   [](OpBuilder &nb, Location nl, ValueRange a) {
                     return MergeBuilder::narrow(nb, nl, a[0], a[1].getType());
                   });
    // The op that makes the result is the merge op (transform handles
    // expect one).
    SmallVector<Operation *> ops = {result.getDefiningOp()};
    SmallVector<Value> replacements = {result};
    if (Value lseResult = sdpa.getLse()) {
      if (!lse)
        lse = splitsLse();
      if (lse.getType() != lseResult.getType())
        lse = tensor::CastOp::create(b, loc, lseResult.getType(), lse);
      replacements.push_back(lse);
    }
    return MergeResult{ops, replacements};
  }
};
} // namespace

void mlir::attn::detail::attachSdpaPartialReduction(MLIRContext &ctx) {
  SdpaOp::attachInterface<SdpaPartialReductionModel>(ctx);
}
