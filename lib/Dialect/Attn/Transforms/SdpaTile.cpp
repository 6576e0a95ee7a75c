//===- SdpaTile.cpp - One tile of attn.sdpa as an attn.sdpa ---------------===//
//
// buildSdpaTile: the slices of every operand for a tile of (batch, head,
// query, key), the GQA head mapping, global positions, pattern and
// score_mod offsets. SdpaTiling.cpp has the overview.
//
//===----------------------------------------------------------------------===//
#include "SdpaTiling.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

bool mlir::attn::detail::isWhole(OpFoldResult offset, OpFoldResult size,
                                 Value tensor, int64_t dim) {
  if (!isConstantIntValue(offset, 0))
    return false;
  int64_t full = cast<RankedTensorType>(tensor.getType()).getDimSize(dim);
  if (!ShapedType::isDynamic(full))
    return isConstantIntValue(size, full);
  auto dimOp = dyn_cast_if_present<tensor::DimOp>(
      dyn_cast_if_present<Value>(size) ? cast<Value>(size).getDefiningOp()
                                       : nullptr);
  return dimOp && dimOp.getSource() == tensor &&
         isConstantIntValue(getAsOpFoldResult(dimOp.getIndex()), dim);
}

namespace {

/// The KV-head range of the head tile [h, h + sh) for H query heads over
/// Hkv KV heads, and the check that the tile maps to one attn.sdpa (whole
/// groups, or inside one group).
static FailureOr<std::pair<OpFoldResult, OpFoldResult>>
kvHeadRange(OpBuilder &b, Location loc, SdpaOp op, OpFoldResult h,
            OpFoldResult sh) {
  SmallVector<OpFoldResult> q = dims(b, loc, op.getQuery());
  SmallVector<OpFoldResult> k = dims(b, loc, op.getKey());
  std::optional<int64_t> sH = getConstantIntValue(q[1]),
                         sHkv = getConstantIntValue(k[1]),
                         sOff = getConstantIntValue(h),
                         sSize = getConstantIntValue(sh);
  if (sH && sHkv && *sH == *sHkv)
    return std::make_pair(h, sh); // MHA: one KV head per query head.
  AffineExpr s0, s1, s2;
  bindSymbols(b.getContext(), s0, s1, s2);
  OpFoldResult group = affine::makeComposedFoldedAffineApply(
      b, loc, s0.floorDiv(s1), {q[1], k[1]});
  std::optional<int64_t> sGroup = getConstantIntValue(group);
  OpFoldResult first = affine::makeComposedFoldedAffineApply(
      b, loc, s0.floorDiv(s1), {h, group});
  if (sSize && sGroup) {
    bool wholeGroups = *sSize % *sGroup == 0;
    bool insideGroup = *sGroup % *sSize == 0;
    if (!wholeGroups && !insideGroup)
      return op.emitOpError()
             << "cannot be tiled with " << *sSize << " query heads per tile: "
             << "a head tile must cover whole groups of " << *sGroup
             << " query heads (H / Hkv) or lie inside one group";
    if (sOff && *sOff % (wholeGroups ? *sGroup : *sSize) != 0)
      return op.emitOpError()
             << "cannot be tiled at query head " << *sOff
             << ": the head tile does not start at a group boundary";
    if (!sOff) {
      // The tile starts at a multiple of its size (or of the group).
      Value rem =
          arith::RemUIOp::create(b, loc, toValue(b, loc, h),
                                 arith::ConstantIndexOp::create(
                                     b, loc, wholeGroups ? *sGroup : *sSize));
      cf::AssertOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem,
                                arith::ConstantIndexOp::create(b, loc, 0)),
          "attn.sdpa tiling: a head tile does not start at a group boundary");
    }
    return std::make_pair(first, OpFoldResult(b.getIndexAttr(
                                     wholeGroups ? *sSize / *sGroup : 1)));
  }
  // The number of KV heads the tile touches; the tile maps to one attn.sdpa
  // when it starts at a group boundary and covers whole groups, or touches
  // one KV head. Checked at run time.
  OpFoldResult count = affine::makeComposedFoldedAffineApply(
      b, loc, (s0 + s1).ceilDiv(s2) - s0.floorDiv(s2), {h, sh, group});
  Value g = toValue(b, loc, group);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto isZero = [&](Value v) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v, zero);
  };
  Value aligned = arith::AndIOp::create(
      b, loc, isZero(arith::RemUIOp::create(b, loc, toValue(b, loc, h), g)),
      isZero(arith::RemUIOp::create(b, loc, toValue(b, loc, sh), g)));
  Value single = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                       toValue(b, loc, count), one);
  cf::AssertOp::create(
      b, loc, arith::OrIOp::create(b, loc, aligned, single),
      "attn.sdpa tiling: a head tile must cover whole groups of H / Hkv "
      "query heads or lie inside one group");
  return std::make_pair(first, count);
}

/// The slice of `source` at `offsets` / `sizes` (unit strides).
static Value slice(OpBuilder &b, Location loc, Value source,
                   ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
                   SmallVectorImpl<Operation *> &slices) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  auto op =
      tensor::ExtractSliceOp::create(b, loc, source, offsets, sizes, strides);
  slices.push_back(op);
  return op.getResult();
}

/// The tile of a mask or bias operand: each dim that is not statically 1 is
/// sliced along the dim of [B, H, Nq, Nk] it is right-aligned with.
static Value sliceBroadcast(OpBuilder &b, Location loc, Value operand,
                            const SdpaTile &t,
                            SmallVectorImpl<Operation *> &slices) {
  auto type = cast<RankedTensorType>(operand.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> full = dims(b, loc, operand);
  SmallVector<OpFoldResult> offsets, sizes;
  OpFoldResult zero = b.getIndexAttr(0);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t target = 4 - rank + d;
    if (type.getDimSize(d) == 1) {
      offsets.push_back(zero);
      sizes.push_back(full[d]);
      continue;
    }
    offsets.push_back(ArrayRef<OpFoldResult>{t.b, t.h, t.q, t.k}[target]);
    sizes.push_back(ArrayRef<OpFoldResult>{t.sb, t.sh, t.sq, t.sk}[target]);
  }
  return slice(b, loc, operand, offsets, sizes, slices);
}

/// The head range of a positions operand, whose head dim Hp is 1, H or Hkv.
static std::pair<OpFoldResult, OpFoldResult>
positionsHeads(OpBuilder &b, Location loc, SdpaOp op, Value positions,
               const SdpaTile &t) {
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  auto type = cast<RankedTensorType>(positions.getType());
  int64_t hp = type.getDimSize(1);
  int64_t h = op.getQuery().getType().getDimSize(1);
  int64_t hkv = op.getKey().getType().getDimSize(1);
  if (hp == 1)
    return {zero, one};
  if (!ShapedType::isDynamic(hp) && hp == h)
    return {t.h, t.sh};
  if (!ShapedType::isDynamic(hp) && hp == hkv)
    return {t.kvh, t.skv};
  // Decided at run time: 1 broadcasts, H is per query head, else Hkv.
  Value dim = tensor::DimOp::create(b, loc, positions, 1);
  Value heads = tensor::DimOp::create(b, loc, op.getQuery(), 1);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value isOne =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, dim, c1);
  Value isH =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, dim, heads);
  auto pick = [&](OpFoldResult forH, OpFoldResult forKv, Value forOne) {
    Value v = arith::SelectOp::create(b, loc, isH, toValue(b, loc, forH),
                                      toValue(b, loc, forKv));
    return OpFoldResult(arith::SelectOp::create(b, loc, isOne, forOne, v));
  };
  return {pick(t.h, t.kvh, arith::ConstantIndexOp::create(b, loc, 0)),
          pick(t.sh, t.skv, c1)};
}

/// [sb, 1, size] i64 positions `offset + index`.
static Value iotaPositions(OpBuilder &b, Location loc, OpFoldResult sb,
                           OpFoldResult size, OpFoldResult offset) {
  Type i64 = b.getI64Type();
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<OpFoldResult>{sb, b.getIndexAttr(1), size}, i64);
  Value off = toValue(b, loc, offset);
  AffineMap id = b.getMultiDimIdentityMap(3);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{id},
      SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange) {
        Value i = linalg::IndexOp::create(nb, nl, 2);
        Value p = arith::AddIOp::create(nb, nl, i, off);
        linalg::YieldOp::create(
            nb, nl, arith::IndexCastOp::create(nb, nl, i64, p).getResult());
      });
  return generic.getResult(0);
}

/// Whether the op reads positions: a pattern other than dense, a span, or
/// a score_mod or mask_mod that uses %i or %j.
static bool readsPositions(SdpaOp op) {
  if (!isa<DenseAttr>(op.getPatternOrDense()) || op.getSpan())
    return true;
  for (auto [region, first] : {std::make_pair(&op.getScoreMod(), 3u),
                               std::make_pair(&op.getMaskMod(), 2u)}) {
    if (region->empty())
      continue;
    Block &block = region->front();
    if (!block.getArgument(first).use_empty() ||
        !block.getArgument(first + 1).use_empty())
      return true;
  }
  return false;
}

/// Whether `pattern` has a bottom-right causal part (which depends on Nq
/// and Nk) or a random part (which depends on Nk).
static bool hasPart(Attribute pattern, bool random) {
  bool found = false;
  pattern.walk([&](Attribute part) {
    if (auto causal = dyn_cast<CausalAttr>(part))
      found |= !random && causal.getBottomRight();
    found |= random && isa<RandomAttr>(part);
  });
  return found;
}

/// Adds `offset` to every use of `arg` in the score_mod region.
static void shiftRegionArgument(OpBuilder &b, BlockArgument arg,
                                OpFoldResult offset, Location loc) {
  if (arg.use_empty() || isConstantIntValue(offset, 0))
    return;
  Value off = toValue(b, loc, offset); // outside the op, before it
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(arg.getOwner());
  Value shifted = arith::AddIOp::create(b, loc, arg, off);
  arg.replaceAllUsesExcept(shifted, shifted.getDefiningOp());
}

/// `op` with an lse result added (same operands, attributes and region);
/// `op` is erased.
static SdpaOp withLseResult(OpBuilder &b, SdpaOp op) {
  SmallVector<Type> types = {op.getResult().getType(),
                             RankedTensorType::get({}, b.getF32Type())};
  Operation *created = Operation::create(
      op.getLoc(), op->getName(), types, op->getOperands(),
      op->getDiscardableAttrDictionary(), op->getPropertiesStorage(),
      BlockRange(), /*numRegions=*/2);
  created->getRegion(0).takeBody(op.getScoreMod());
  created->getRegion(1).takeBody(op.getMaskMod());
  b.insert(created);
  op->erase();
  return cast<SdpaOp>(created);
}

} // namespace

/// The largest block_sparse layout (cells) that a random pattern is
/// rewritten into for a key split.
static constexpr int64_t kMaxRandomLayoutCells = int64_t(1) << 24;

/// `pattern` with each random part replaced by the block_sparse layout of
/// the key blocks it draws for the whole op (Nq and Nk of `q` and `k`), so
/// that a key split, whose own Nk differs, sees the same pairs. Needs static
/// Nq and Nk and no positions operands (then the tile's positions are the
/// global rows and columns, inside the layout).
static FailureOr<Attribute> randomAsLayout(OpBuilder &b, SdpaOp op,
                                           Attribute pattern,
                                           ArrayRef<OpFoldResult> q,
                                           ArrayRef<OpFoldResult> k) {
  std::optional<int64_t> nq = getConstantIntValue(q[2]),
                         nk = getConstantIntValue(k[2]);
  if (!nq || !nk || op.getQueryPositions())
    return op.emitOpError(
        "with a random pattern can be split over keys only with static Nq "
        "and Nk and without positions: its key blocks are drawn from the "
        "ceil(Nk / block) blocks of the whole op, which a split sees as a "
        "block_sparse layout built at compile time");
  bool tooLarge = false;
  Attribute result = pattern.replace([&](RandomAttr random) -> Attribute {
    int64_t block = random.getBlock();
    int64_t rows = *nq / block + (*nq % block != 0);
    int64_t cols = random.getNumCandidateBlocks(*nk);
    if (rows * cols > kMaxRandomLayoutCells) {
      tooLarge = true;
      return random;
    }
    // Row qb: the per_row candidates with the smallest hashes.
    SmallVector<bool> bits(rows * cols, false);
    SmallVector<std::pair<uint64_t, int64_t>> ranked(cols);
    int64_t chosen = std::min<int64_t>(random.getPerRow(), cols);
    for (int64_t qb = 0; qb < rows; ++qb) {
      for (int64_t kb = 0; kb < cols; ++kb)
        ranked[kb] = {splitmix64(uint64_t(random.getSeed()) ^
                                 (uint64_t(qb) << 32) ^ uint64_t(kb)),
                      kb};
      std::partial_sort(ranked.begin(), ranked.begin() + chosen, ranked.end());
      for (int64_t c = 0; c < chosen; ++c)
        bits[qb * cols + ranked[c].second] = true;
    }
    auto type = RankedTensorType::get({rows, cols}, b.getI1Type());
    return BlockSparseAttr::get(b.getContext(), {block, block},
                                DenseIntElementsAttr::get(type, bits));
  });
  if (tooLarge)
    return op.emitOpError()
           << "with a random pattern can be split over keys only when its "
              "block layout (ceil(Nq / block) x ceil(Nk / block)) has at most "
           << kMaxRandomLayoutCells << " blocks";
  return result;
}

FailureOr<SdpaOp> mlir::attn::detail::buildSdpaMemoryPart(OpBuilder &b,
                                                          SdpaOp sdpa) {
  Location loc = sdpa.getLoc();
  SmallVector<Operation *> unused;
  OpFoldResult zero = b.getIndexAttr(0);
  auto noKeys = [&](Value v) {
    SmallVector<OpFoldResult> full = dims(b, loc, v);
    return slice(b, loc, v, {zero, zero, zero, zero},
                 {full[0], full[1], zero, full[3]}, unused);
  };
  Value key = noKeys(sdpa.getKey()), value = noKeys(sdpa.getValue());
  auto part = cast<SdpaOp>(b.clone(*sdpa));
  if (!part.getLse())
    part = withLseResult(b, part);
  part.getKeyMutable().assign(key);
  part.getValueMutable().assign(value);
  // One range at a time: a range holds the operand offsets of its time.
  part.getMaskMutable().clear();
  part.getBiasMutable().clear();
  part.getQueryPositionsMutable().clear();
  part.getKeyPositionsMutable().clear();
  part.getSpanMutable().clear();
  part.getQuerySegmentsMutable().clear();
  part.getKeySegmentsMutable().clear();
  part.removePatternAttr();
  part.removeRampAttr();
  part.removeMaxSpanAttr();
  part.getScoreMod().dropAllReferences();
  part.getScoreMod().getBlocks().clear();
  part.getResult().setType(part.getInit().getType());
  auto init = cast<RankedTensorType>(part.getInit().getType());
  part.getLse().setType(
      RankedTensorType::get(init.getShape().take_front(3), b.getF32Type()));
  if (failed(verify(part))) {
    part->erase();
    return failure();
  }
  return part;
}

FailureOr<SdpaTileOp>
mlir::attn::detail::buildSdpaTile(OpBuilder &b, SdpaOp sdpa,
                                  ArrayRef<OpFoldResult> offsets,
                                  ArrayRef<OpFoldResult> sizes, bool keySplit) {
  Operation *op = sdpa;
  Location loc = op->getLoc();
  SdpaTile t;
  t.b = offsets[0], t.h = offsets[1], t.q = offsets[2], t.k = offsets[3];
  t.sb = sizes[0], t.sh = sizes[1], t.sq = sizes[2], t.sk = sizes[3];
  SmallVector<OpFoldResult> q = dims(b, loc, sdpa.getQuery());
  SmallVector<OpFoldResult> k = dims(b, loc, sdpa.getKey());
  bool queryTiled = !isWhole(t.q, t.sq, sdpa.getQuery(), 2);
  bool keyTiled = keySplit || !isWhole(t.k, t.sk, sdpa.getKey(), 2);
  if (keyTiled && !keySplit && sdpa.getMemoryKey())
    return sdpa.emitOpError(
        "with memory can be split over keys only as a partial reduction "
        "(split-KV), whose merge counts the memory keys once");
  Attribute pattern = sdpa.getPatternAttr();
  if (keyTiled && pattern && hasPart(pattern, /*random=*/true)) {
    FailureOr<Attribute> fixed = randomAsLayout(b, sdpa, pattern, q, k);
    if (failed(fixed))
      return failure();
    pattern = *fixed;
  }
  FailureOr<std::pair<OpFoldResult, OpFoldResult>> kv =
      kvHeadRange(b, loc, sdpa, t.h, t.sh);
  if (failed(kv))
    return failure();
  std::tie(t.kvh, t.skv) = *kv;

  // The pattern of the tile: a bottom-right causal depends on Nq and Nk.
  if (pattern && (queryTiled || keyTiled) &&
      hasPart(pattern, /*random=*/false)) {
    std::optional<int64_t> nq = getConstantIntValue(q[2]),
                           nk = getConstantIntValue(k[2]);
    if (!nq || !nk)
      return sdpa.emitOpError(
          "with a bottom_right causal pattern can be tiled over queries or "
          "keys only with static Nq and Nk (write the offset, or positions, "
          "instead)");
    pattern = pattern.replace([&](CausalAttr causal) -> Attribute {
      if (!causal.getBottomRight())
        return causal;
      return CausalAttr::get(b.getContext(), causal.getOffset() + *nk - *nq,
                             false);
    });
  }

  SmallVector<Operation *> slices;
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  auto rank4 = [&](Value v, OpFoldResult hOff, OpFoldResult hSize, bool q) {
    SmallVector<OpFoldResult> full = dims(b, loc, v);
    return slice(b, loc, v, {t.b, hOff, q ? t.q : t.k, zero},
                 {t.sb, hSize, q ? t.sq : t.sk, full[3]}, slices);
  };
  // New value of each operand, by operand number.
  DenseMap<unsigned, Value> tiled;
  auto set = [&](OpOperand &operand, Value v) {
    tiled[operand.getOperandNumber()] = v;
  };
  set(sdpa.getQueryMutable(), rank4(sdpa.getQuery(), t.h, t.sh, true));
  set(sdpa.getKeyMutable(), rank4(sdpa.getKey(), t.kvh, t.skv, false));
  set(sdpa.getValueMutable(), rank4(sdpa.getValue(), t.kvh, t.skv, false));
  set(sdpa.getInitMutable(), rank4(sdpa.getInit(), t.h, t.sh, true));
  for (MutableOperandRange range :
       {sdpa.getMaskMutable(), sdpa.getBiasMutable()})
    if (range.size() == 1)
      set(range[0], sliceBroadcast(b, loc, range[0].get(), t, slices));
  for (MutableOperandRange range :
       {sdpa.getMemoryKeyMutable(), sdpa.getMemoryValueMutable()})
    if (range.size() == 1 && keySplit) {
      set(range[0], Value()); // Dropped: the merge adds the memory keys.
    } else if (range.size() == 1) {
      SmallVector<OpFoldResult> full = dims(b, loc, range[0].get());
      set(range[0], slice(b, loc, range[0].get(), {t.kvh, zero, zero},
                          {t.skv, full[1], full[2]}, slices));
    }
  for (auto [range, isQuery] :
       {std::make_pair(sdpa.getQueryPositionsMutable(), true),
        std::make_pair(sdpa.getKeyPositionsMutable(), false)})
    if (range.size() == 1) {
      Value positions = range[0].get();
      auto [hOff, hSize] = positionsHeads(b, loc, sdpa, positions, t);
      set(range[0], slice(b, loc, positions, {t.b, hOff, isQuery ? t.q : t.k},
                          {t.sb, hSize, isQuery ? t.sq : t.sk}, slices));
    }
  if (sdpa.getSpan())
    set(sdpa.getSpanMutable()[0],
        slice(b, loc, sdpa.getSpan(), {t.h}, {t.sh}, slices));
  for (auto [range, isQuery] :
       {std::make_pair(sdpa.getQuerySegmentsMutable(), true),
        std::make_pair(sdpa.getKeySegmentsMutable(), false)})
    if (range.size() == 1)
      set(range[0], slice(b, loc, range[0].get(), {t.b, isQuery ? t.q : t.k},
                          {t.sb, isQuery ? t.sq : t.sk}, slices));
  for (OpOperand &operand : op->getOpOperands())
    if (!tiled.count(operand.getOperandNumber()))
      return op->emitOpError("cannot be tiled: operand ")
             << operand.getOperandNumber()
             << " is not handled by the attn.sdpa tiling";

  // Default positions that the tile must see globally.
  Value qpos, kpos;
  if ((queryTiled || keyTiled) && !sdpa.getQueryPositions() &&
      readsPositions(sdpa)) {
    qpos = iotaPositions(b, loc, t.sb, t.sq, t.q);
    kpos = iotaPositions(b, loc, t.sb, t.sk, t.k);
  }

  auto tiledOp = cast<SdpaOp>(b.clone(*op));
  if (keySplit && !tiledOp.getLse())
    tiledOp = withLseResult(b, tiledOp);
  for (OpOperand &operand : tiledOp->getOpOperands())
    if (Value v = tiled.lookup(operand.getOperandNumber()))
      operand.set(v);
  if (keySplit && tiledOp.getMemoryKey()) {
    tiledOp.getMemoryKeyMutable().clear();
    tiledOp.getMemoryValueMutable().clear();
  }
  if (qpos) {
    tiledOp.getQueryPositionsMutable().assign(qpos);
    tiledOp.getKeyPositionsMutable().assign(kpos);
  }
  if (pattern)
    tiledOp.setPatternAttr(cast<PatternAttrInterface>(pattern));
  tiledOp.getResult().setType(tiledOp.getInit().getType());
  if (Value lse = tiledOp.getLse()) {
    // [sb, sh, sq] f32.
    SmallVector<int64_t> shape;
    SmallVector<Value> dynamic;
    dispatchIndexOpFoldResults({t.sb, t.sh, t.sq}, dynamic, shape);
    lse.setType(RankedTensorType::get(shape, b.getF32Type()));
  }
  // %b and %h of score_mod (arguments 1, 2) and mask_mod (0, 1) are global.
  for (auto [region, first] : {std::make_pair(&tiledOp.getScoreMod(), 1u),
                               std::make_pair(&tiledOp.getMaskMod(), 0u)}) {
    if (region->empty())
      continue;
    Block &block = region->front();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(tiledOp);
    shiftRegionArgument(b, block.getArgument(first), t.b, loc);
    shiftRegionArgument(b, block.getArgument(first + 1), t.h, loc);
  }
  return SdpaTileOp{tiledOp, slices};
}
