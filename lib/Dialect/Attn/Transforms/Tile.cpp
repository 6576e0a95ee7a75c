//===- Tile.cpp - attn-tile: attn.sdpa into the flash form ----------------===//
//
// Per (b, h, query tile), one iteration of an scf.forall:
//
//   state = (max = -inf, sum = 0, acc = 0)              [Tq], [Tq], [Tq, Dv]
//   for each tile of persistent memory:   state = step(memory scores)
//   for each key tile in the pattern's key intervals (all tiles with a
//   positions operand), clipped with sorted key document ids to the rows
//   of the query tile's documents (binary search):
//     kind = classify(query position range, key position range),
//            met with the span's kind and with the document ids' (from
//            each tile's smallest and largest id); Full becomes Partial
//            with a mask
//     Empty:   skipped
//     Full:    state = step(scores [+ bias, score_mod])
//     Partial: state = step(live ? scores [+ bias, score_mod] : -inf),
//              live = pattern & mask & span weight > 0 & equal ids
//              (and the weight)
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
#include "SdpaLowering.h"
#include "SdpaTiler.h"

#include "attn/Dialect/Attn/IR/QueryTileFacts.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/Support/SaveAndRestore.h"

#include <numeric>

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;

//===----------------------------------------------------------------------===//
// Tile sizes
//===----------------------------------------------------------------------===//

/// The smallest tile that alignTilesToPattern picks: below it the
/// micro-kernels' fixed costs per tile dominate, and the given size is kept.
static constexpr int64_t kMinAlignedTile = 32;

/// Returns the largest divisor of `block` that is at most `tile`, or `tile`
/// when that divisor is below kMinAlignedTile or `block` is 0 (no blocks).
static int64_t alignedTile(int64_t block, int64_t tile) {
  if (block <= 0 || block % tile == 0)
    return tile;
  for (int64_t d = std::min(block, tile); d >= kMinAlignedTile; --d)
    if (block % d == 0)
      return d;
  return tile;
}

/// Tiles that straddle two blocks of a block-structured part of the pattern
/// (block_sparse, random, block_local) are Partial even where the blocks
/// are whole: the two block rows (or columns) have different live blocks.
/// So a query tile is narrowed to a divisor of the gcd of the parts' query
/// block sizes (BigBird's 64-blocks with the default 128 x 64 tiles: 64 x 64,
/// and no tile is Partial), and a key tile likewise. Without positions only:
/// with them, rows are not positions.
///
/// A band (a window or dilated part) computes the two triangles at its edges
/// in Partial tiles whatever their kind costs: with Tq query rows a band of
/// width w spans w + Tq - 1 columns per row, so a query tile no taller than
/// the key tile (64 x 64: 576 columns for 513 live, against 640 at 128 x 64)
/// wastes less. The tiles stay target-independent: this depends on the
/// pattern alone.
void SdpaTiler::alignTilesToPattern() {
  int64_t queryBlock = 0, keyBlock = 0;
  bool band = false;
  auto add = [](int64_t &g, int64_t block) { g = std::gcd(g, block); };
  cast<Attribute>(pattern).walk([&](Attribute part) {
    band |= isa<WindowAttr, DilatedAttr>(part);
    if (auto sparse = dyn_cast<BlockSparseAttr>(part)) {
      add(queryBlock, sparse.getBlock()[0]);
      add(keyBlock, sparse.getBlock()[1]);
    } else if (auto random = dyn_cast<RandomAttr>(part)) {
      add(queryBlock, random.getBlock());
      add(keyBlock, random.getBlock());
    } else if (auto local = dyn_cast<BlockLocalAttr>(part)) {
      add(queryBlock, local.getSize());
      add(keyBlock, local.getSize());
    }
  });
  if (!op.getKeyPositions())
    kvTile = alignedTile(keyBlock, kvTile);
  if (op.getQueryPositions())
    return;
  qTile = alignedTile(queryBlock, qTile);
  if (band && kvTile >= kMinAlignedTile)
    qTile = std::min(qTile, kvTile);
}

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
  for (auto [positions, seq] : {std::make_pair(op.getQueryPositions(), q[2]),
                                std::make_pair(op.getKeyPositions(), k[2])}) {
    if (!positions)
      continue;
    SmallVector<OpFoldResult> p = getSizes(b, loc, positions);
    assertEqualSizes(b, loc, p[0], q[0], name + "B of positions differs");
    assertEqualSizes(b, loc, p[2], seq, name + "length of positions differs");
    Value heads = tensor::DimOp::create(b, loc, positions, 1);
    Value ok = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
    for (Value allowed : {index(1), sizeH, sizeHkv})
      ok = arith::OrIOp::create(b, loc, ok,
                                arith::CmpIOp::create(b, loc,
                                                      arith::CmpIPredicate::eq,
                                                      heads, allowed));
    cf::AssertOp::create(b, loc, ok,
                         "attn.sdpa: positions head dim is not 1, H or Hkv");
  }
  if (Value span = op.getSpan())
    assertEqualSizes(b, loc, getSizes(b, loc, span)[0], q[1],
                     name + "span is not [H]");
  detail::assertSegmentSizes(b, loc, op.getQuery(), op.getKey(),
                             op.getQuerySegments(), op.getKeySegments());
  detail::assertBlockLayoutSizes(b, loc, parts.layout, op.getQuery());
}

/// Whether `op`'s destination is an argument of the entry block of its
/// function and its result goes only to the function's return.
static bool returnsArgumentDestination(SdpaOp op) {
  auto arg = dyn_cast<BlockArgument>(op.getInit());
  if (!arg || !arg.getOwner()->isEntryBlock() ||
      !isa_and_present<FunctionOpInterface>(arg.getOwner()->getParentOp()))
    return false;
  Value result = op.getResult();
  return !result.use_empty() &&
         llvm::all_of(result.getUsers(), [](Operation *user) {
           return user->hasTrait<OpTrait::ReturnLike>();
         });
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
  if (op.getKeySegments())
    keySegmentsSorted = buildKeySegmentsSorted();
  if (parts.layout) {
    layoutOwners = detail::buildBlockOwners(
        b, loc, parts.layout,
        arith::CeilDivUIOp::create(b, loc, sizeNk, index(kvTile)));
    fullLength = detail::fullListLength(b, loc, parts.layout);
  } else if (parts.maskMod && !op.getQueryPositions()) {
    maskModMap = buildMaskModBlockMap();
  }

  // A destination that is the function's own argument, returned as the
  // result: written in place, the function would return its argument, which
  // the buffer deallocation then clones whole (a serial copy of the output
  // on every call). A fresh tensor instead: every element is written. (Not
  // with freshDestination off: attn-cpu-pipeline drops that clone.)
  Value init = op.getInit();
  if (freshDestination && returnsArgumentDestination(op))
    init = emptyTensor(b, loc, getSizes(b, loc, init),
                       getElementTypeOrSelf(init.getType()));
  SmallVector<Value> outs = {init};
  RankedTensorType lseType;
  if (Value lse = op.getLse()) {
    lseType = cast<RankedTensorType>(lse.getType());
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < 3; ++d)
      sizes.push_back(lseType.isDynamicDim(d) ? q[d]
                                              : OpFoldResult(b.getIndexAttr(
                                                    lseType.getDimSize(d))));
    outs.push_back(emptyTensor(b, loc, sizes, lseType.getElementType()));
  }
  if (prefetch)
    buildPrefetchBuffers(init);
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
  if (prefetch)
    prefetchNextQueryTile(qt);
  // Per-query-block values of the predicates (random's thresholds), built
  // here once so that classify and the Partial tiles' pairs only read them.
  std::optional<int64_t> maxQueries;
  if (!op.getQueryPositions())
    maxQueries = qTile;
  QueryTileFacts facts(pattern, b, loc, qt.first, qt.last, numQueries,
                       numKeys, maxQueries);
  llvm::SaveAndRestore<const QueryTileFacts *> inTile(queryFacts, &facts);
  tile::RowState state = tile::buildInitialState(b, loc, qt.size, valueDim, ct);
  if (op.getMemoryKey())
    state = buildMemoryLoop(qt, state);
  state = parts.layout ? buildLayoutKeyLoop(qt, state)
                       : buildKeyLoop(qt, state);

  // The output and lse are written straight into the query tile's slices
  // of the shared outputs (their destinations), so that bufferization
  // writes them in place rather than into a temporary copied afterwards.
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  ValueRange shared = forall.getRegionIterArgs();
  Value out = tile::buildNormalizedOutput(
      b, loc, state,
      slice(shared[0], {bIdx, hIdx, qt.start, zero},
            {one, one, qt.size, b.getIndexAttr(valueDim)}, {2, 3}));
  Value lse;
  if (lseType)
    lse = tile::buildLogSumExp(
        b, loc, state,
        slice(shared[1], {bIdx, hIdx, qt.start}, {one, one, qt.size}, {2}));

  b.setInsertionPointToStart(forall.getTerminator().getBody());
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
// Which key tiles, and what each holds
//===----------------------------------------------------------------------===//

/// Returns (first tile, number of tiles) index pairs, one per key interval
/// of the query tile's positions; without positions key position j is row j,
/// so the intervals map to tile ranges. With positions, every tile. With
/// document ids sorted in the batch, only the rows of the documents that the
/// query tile holds.
SmallVector<std::pair<Value, Value>>
SdpaTiler::keyTileRanges(const QueryTile &q) {
  Value numTiles = arith::CeilDivUIOp::create(b, loc, sizeNk, index(kvTile));
  // Rows of keys: the pattern's key intervals (positions are rows without a
  // positions operand), clipped to the rows of the query tile's documents.
  SmallVector<std::pair<Value, Value>> intervals;
  std::optional<std::pair<Value, Value>> docRows;
  if (op.getQuerySegments())
    docRows = segmentKeyRows(q);
  if (!op.getKeyPositions())
    intervals = pattern.buildKeyIntervals(b, loc, q.first, q.last, numQueries,
                                          numKeys);
  else if (docRows)
    intervals = {*docRows};
  else
    return {{index(0), numTiles}};
  SmallVector<std::pair<Value, Value>> ranges;
  Value tileSize = i64(kvTile);
  for (auto [first, last] : intervals) {
    if (docRows) {
      first = arith::MaxSIOp::create(b, loc, first, docRows->first);
      last = arith::MinSIOp::create(b, loc, last, docRows->second);
    }
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

//===----------------------------------------------------------------------===//
// Loops
//===----------------------------------------------------------------------===//

tile::RowState SdpaTiler::buildMemoryLoop(const QueryTile &q,
                                          tile::RowState state) {
  Value numMemory = tensor::DimOp::create(b, loc, op.getMemoryKey(), 1);
  Value numTiles = arith::CeilDivUIOp::create(b, loc, numMemory, index(kvTile));
  return buildStateLoop(
      numTiles, state, [&](Value iv, ValueRange args) -> SmallVector<Value> {
        KeyTile k = buildMemoryTile(iv);
        Value scores = buildScores(q, k.keys);
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
        tile::RowState next =
            tile::buildSoftmaxStep(b, loc, {args[0], args[1], args[2]}, scores,
                                   Value(), k.values);
        return {next.max, next.sum, next.acc};
      });
}

/// An scf.for over [0, count) that carries the row state; `body` builds
/// one iteration (the tiler's builder at the loop body) and returns the
/// next state.
tile::RowState SdpaTiler::buildStateLoop(
    Value count, tile::RowState state,
    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto loop = scf::ForOp::create(
      b, loc, index(0), count, index(1),
      ValueRange{state.max, state.sum, state.acc},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        scf::YieldOp::create(b, loc, body(iv, args));
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
    prefix.push_back(
        arith::AddIOp::create(b, loc, prefix.back(), range.second));
  // The key tile just past each range: in a band, the one tile that the
  // next query tile reads and no tile of this one did.
  if (prefetch)
    for (auto &range : ranges)
      prefetchKeyTile(
          arith::AddIOp::create(b, loc, range.first, range.second));
  return buildStateLoop(
      prefix.back(), state,
      [&](Value iv, ValueRange args) -> SmallVector<Value> {
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
          Value later = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                              iv, prefix[r + 1]);
          Value end =
              arith::AddIOp::create(b, loc, ranges[r].first, ranges[r].second);
          Value inside = arith::AndIOp::create(
              b, loc,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                    tileIndex, ranges[r].first),
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                    tileIndex, end));
          seen = arith::OrIOp::create(
              b, loc, seen, arith::AndIOp::create(b, loc, later, inside));
        }
        KeyTile k = buildKeyTile(tileIndex);
        Value kind = buildTileKind(q, k);
        if (n > 1)
          kind = arith::SelectOp::create(
              b, loc, seen,
              arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0), kind);
        return buildDispatch(q, k, kind, args);
      });
}

/// The step of key tile `k` by its run-time `kind` (i8 BlockKind): Empty
/// keeps the state `current`, Full and Partial take their steps. Returns
/// the next state (max, sum, acc).
SmallVector<Value> SdpaTiler::buildDispatch(const QueryTile &q,
                                            const KeyTile &k, Value kind,
                                            ValueRange current) {
  SmallVector<Type> stateTypes = llvm::to_vector(current.getTypes());
  auto dispatch = scf::IndexSwitchOp::create(
      b, loc, stateTypes, toIndex(kind),
      ArrayRef<int64_t>{static_cast<int64_t>(BlockKind::Empty),
                        static_cast<int64_t>(BlockKind::Full)},
      2);
  tile::RowState state = {current[0], current[1], current[2]};
  auto fill = [&](Region &region, std::optional<BlockKind> stepKind) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&region.emplaceBlock());
    tile::RowState next = state;
    if (stepKind)
      next = buildKeyStep(*stepKind, q, k, state);
    SmallVector<Value> values = {next.max, next.sum, next.acc};
    SmallVector<Value> results;
    for (auto [value, type] : llvm::zip_equal(values, stateTypes))
      results.push_back(
          value.getType() == type
              ? value
              : tensor::CastOp::create(b, loc, type, value).getResult());
    scf::YieldOp::create(b, loc, results);
  };
  fill(dispatch.getCaseRegions()[0], std::nullopt);
  fill(dispatch.getCaseRegions()[1], BlockKind::Full);
  fill(dispatch.getDefaultRegion(), BlockKind::Partial);
  return SmallVector<Value>(dispatch.getResults());
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {
struct AttnTilePass : public attn::impl::AttnTileBase<AttnTilePass> {
  using Base::Base;
  void runOnOperation() override {
    FailureOr<FloatType> parsed =
        parseComputeType(getOperation(), "attn-tile", computeType);
    if (failed(parsed))
      return signalPassFailure();
    FloatType type = *parsed;
    if (qTile < 1 || kvTile < 1) {
      getOperation()->emitError()
          << "attn-tile: q-tile and kv-tile must be at least 1, but got "
          << int64_t(qTile) << " and " << int64_t(kvTile);
      return signalPassFailure();
    }
    SmallVector<SdpaOp> targets;
    getOperation()->walk([&](SdpaOp op) { targets.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (SdpaOp op : targets) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(
          op, buildFlashForm(rewriter, op, qTile, kvTile, type, prefetch,
                             freshDestination));
    }
  }
};
} // namespace

SmallVector<Value> mlir::attn::tile::buildFlashForm(OpBuilder &b, SdpaOp op,
                                                    int64_t qTile,
                                                    int64_t kvTile,
                                                    FloatType type,
                                                    bool prefetch,
                                                    bool freshDestination) {
  // A head dim of 0 leaves nothing to tile (and an extract_slice at offset 0
  // of a static 0 dim does not verify): such an op takes the reference
  // lowering, whose size is then that of the scores alone.
  if (cast<RankedTensorType>(op.getQuery().getType()).getDimSize(3) == 0 ||
      cast<RankedTensorType>(op.getValue().getType()).getDimSize(3) == 0)
    return attn::detail::buildSdpaLinalg(b, op.getLoc(),
                                         attn::detail::getSdpaParts(op), type);
  return SdpaTiler(b, op, qTile, kvTile, type, prefetch, freshDestination)
      .run();
}
