//===- TileMaskMod.cpp - mask_mod and the block layout in attn-tile -------===//
//
// mask_mod: once per call, before the loop over query tiles, the region is
// evaluated over every (query tile, key tile) of every batch and head it
// reads (one of each when it does not read %b or %h), giving an i8 map of
// kinds: Empty where it is false on every pair, Full where it is true on
// every pair, else Partial (FlexAttention's create_block_mask). A tile's
// kind is the pattern's met with the map's; Partial tiles evaluate the
// region per pair. With a positions operand there is no map: every tile
// that mask_mod reaches is Partial.
//
// The block layout: the tiles are its blocks; per query tile, the loop
// visits exactly the listed entries (full ones first), each classified by
// the pattern and the rest; a block listed twice is visited by its owner
// entry only (detail::buildBlockOwners). In blocks listed as full, mask_mod
// is not applied.
//
//===----------------------------------------------------------------------===//
#include "SdpaTiler.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;

static Value kindConstant(OpBuilder &b, Location loc, BlockKind kind) {
  return arith::ConstantIntOp::create(b, loc, b.getI8Type(),
                                      static_cast<int64_t>(kind));
}

static Value isKind(OpBuilder &b, Location loc, Value v, BlockKind kind) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v,
                               kindConstant(b, loc, kind));
}

static Value notI1(OpBuilder &b, Location loc, Value v) {
  return arith::XOrIOp::create(
      b, loc, v, arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
}

/// The kind of mask_mod over the rows [qStart, qEnd) and columns
/// [kStart, kEnd) of batch `bb` and head `hh`: Empty when it is false on
/// every pair, Full when it is true on every pair, else Partial. Rows are
/// scanned until both a true and a false pair are seen.
Value SdpaTiler::buildMaskModTileKind(OpBuilder &nb, Location nl, Value bb,
                                      Value hh, Value qStart, Value qEnd,
                                      Value kStart, Value kEnd) {
  Block &block = op.getMaskMod().front();
  Type i1 = nb.getI1Type();
  Value yes = arith::ConstantIntOp::create(nb, nl, i1, 1);
  Value no = arith::ConstantIntOp::create(nb, nl, i1, 0);
  Value one = arith::ConstantIndexOp::create(nb, nl, 1);
  auto scan = scf::WhileOp::create(
      nb, nl, TypeRange{nb.getIndexType(), i1, i1}, ValueRange{qStart, no, yes},
      [&](OpBuilder &wb, Location wl, ValueRange args) {
        Value inside = arith::CmpIOp::create(wb, wl, arith::CmpIPredicate::ult,
                                             args[0], qEnd);
        Value mixed = arith::AndIOp::create(wb, wl, args[1],
                                            notI1(wb, wl, args[2]));
        scf::ConditionOp::create(
            wb, wl,
            arith::AndIOp::create(wb, wl, inside, notI1(wb, wl, mixed)),
            args);
      },
      [&](OpBuilder &wb, Location wl, ValueRange args) {
        Value i = args[0];
        auto columns = scf::ForOp::create(
            wb, wl, kStart, kEnd, one, ValueRange{args[1], args[2]},
            [&](OpBuilder &fb, Location fl, Value j, ValueRange acc) {
              Value v = detail::inlineModRegion(fb, block, {bb, hh, i, j});
              scf::YieldOp::create(
                  fb, fl,
                  ValueRange{arith::OrIOp::create(fb, fl, acc[0], v),
                             arith::AndIOp::create(fb, fl, acc[1], v)});
            });
        scf::YieldOp::create(wb, wl,
                             ValueRange{arith::AddIOp::create(wb, wl, i, one),
                                        columns.getResult(0),
                                        columns.getResult(1)});
      });
  Value any = scan.getResult(1), all = scan.getResult(2);
  return arith::SelectOp::create(
      nb, nl, any,
      arith::SelectOp::create(nb, nl, all,
                              kindConstant(nb, nl, BlockKind::Full),
                              kindConstant(nb, nl, BlockKind::Partial)),
      kindConstant(nb, nl, BlockKind::Empty));
}

/// The map [Bm, Hm, query tiles, key tiles] of mask_mod's kinds (i8), Bm
/// B when the region reads %b (else 1), Hm likewise for %h.
Value SdpaTiler::buildMaskModBlockMap() {
  Block &block = op.getMaskMod().front();
  maskMapPerBatch = !block.getArgument(0).use_empty();
  maskMapPerHead = !block.getArgument(1).use_empty();
  Value mapB = maskMapPerBatch ? sizeB : index(1);
  Value mapH = maskMapPerHead ? sizeH : index(1);
  Value numQueryTiles =
      arith::CeilDivUIOp::create(b, loc, sizeNq, index(qTile));
  Value numKeyTiles = arith::CeilDivUIOp::create(b, loc, sizeNk, index(kvTile));
  Type i8 = b.getI8Type();
  Value init =
      emptyTensor(b, loc, {mapB, mapH, numQueryTiles, numKeyTiles}, i8);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{mapB, mapH, numQueryTiles},
      ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  SmallVector<Value> ivs = llvm::to_vector(forall.getInductionVars());
  Value qStart = mulIndex(ivs[2], index(qTile));
  Value qEnd = minIndex(arith::AddIOp::create(b, loc, qStart, index(qTile)),
                        sizeNq);
  Value row = emptyTensor(b, loc, {numKeyTiles}, i8);
  auto loop = scf::ForOp::create(
      b, loc, index(0), numKeyTiles, index(1), ValueRange{row},
      [&](OpBuilder &nb, Location nl, Value kt, ValueRange args) {
        Value size = arith::ConstantIndexOp::create(nb, nl, kvTile);
        Value kStart = arith::MulIOp::create(nb, nl, kt, size);
        Value kEnd = arith::MinSIOp::create(
            nb, nl, arith::AddIOp::create(nb, nl, kStart, size), sizeNk);
        Value kind = buildMaskModTileKind(nb, nl, ivs[0], ivs[1], qStart,
                                          qEnd, kStart, kEnd);
        scf::YieldOp::create(
            nb, nl,
            tensor::InsertOp::create(nb, nl, kind, args[0], ValueRange{kt})
                .getResult());
      });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  OpFoldResult one = b.getIndexAttr(1);
  tensor::ParallelInsertSliceOp::create(
      b, loc, loop.getResult(0), forall.getRegionIterArgs()[0],
      ArrayRef<OpFoldResult>{ivs[0], ivs[1], ivs[2], b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{one, one, one, numKeyTiles},
      ArrayRef<OpFoldResult>{one, one, one, one});
  return forall.getResult(0);
}

/// Meets `kind` with mask_mod's: from the map (Empty stays Empty, Partial
/// turns Full into Partial); without a map, Full becomes Partial unless the
/// block is listed as full.
Value SdpaTiler::meetMaskMod(Value kind, const QueryTile &q, const KeyTile &k) {
  Value full = isKind(b, loc, kind, BlockKind::Full);
  if (!maskModMap) {
    Value demote = full;
    if (k.fullListed)
      demote = arith::AndIOp::create(b, loc, full, notI1(b, loc, k.fullListed));
    return arith::SelectOp::create(
        b, loc, demote, kindConstant(b, loc, BlockKind::Partial), kind);
  }
  Value mapKind = tensor::ExtractOp::create(
      b, loc, maskModMap,
      ValueRange{maskMapPerBatch ? bIdx : index(0),
                 maskMapPerHead ? hIdx : index(0), q.index, k.index});
  Value demote = arith::AndIOp::create(
      b, loc, full, isKind(b, loc, mapKind, BlockKind::Partial));
  return arith::SelectOp::create(
      b, loc, isKind(b, loc, mapKind, BlockKind::Empty),
      kindConstant(b, loc, BlockKind::Empty),
      arith::SelectOp::create(b, loc, demote,
                              kindConstant(b, loc, BlockKind::Partial), kind));
}

/// mask_mod at the pair (qpos `qi`, kpos `kj`, i64) inside the Partial step
/// of key tile `k`; true in a block listed as full.
Value SdpaTiler::maskModLive(OpBuilder &nb, Location nl, const KeyTile &k,
                             Value qi, Value kj) {
  Value live = parts.maskMod(
      nb, nl, bIdx, hIdx,
      arith::IndexCastOp::create(nb, nl, nb.getIndexType(), qi),
      arith::IndexCastOp::create(nb, nl, nb.getIndexType(), kj));
  if (k.fullListed)
    live = arith::OrIOp::create(nb, nl, live, k.fullListed);
  return live;
}

/// The loop over the entries of the block layout's row of query tile `q`:
/// full entries, then partial ones; an entry outside [0, key tiles) or not
/// the owner of its block is Empty.
tile::RowState SdpaTiler::buildLayoutKeyLoop(const QueryTile &q,
                                             tile::RowState state) {
  const detail::BlockLayout &layout = parts.layout;
  auto [bl, hl] = detail::layoutRow(b, loc, layout, bIdx, hIdx);
  SmallVector<Value> row = {bl, hl, q.index};
  Value numFull = layout.fullNum
                      ? detail::listedCount(b, loc, layout.fullNum,
                                            layout.fullIndices, row)
                      : index(0);
  Value numPartial =
      detail::listedCount(b, loc, layout.num, layout.indices, row);
  Value total = arith::AddIOp::create(b, loc, numFull, numPartial);
  Value numKeyTiles = arith::CeilDivUIOp::create(b, loc, sizeNk, index(kvTile));
  return buildStateLoop(
      total, state, [&](Value p, ValueRange args) -> SmallVector<Value> {
        Value isFull = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                             p, numFull);
        Value entry = arith::SelectOp::create(
            b, loc, isFull, p, arith::SubIOp::create(b, loc, p, numFull));
        Value code = arith::SelectOp::create(
            b, loc, isFull, p, arith::AddIOp::create(b, loc, fullLength, entry));
        auto listAt = [&](OpBuilder &lb, Location ll, Value indices) -> Value {
          SmallVector<Value> at = row;
          at.push_back(entry);
          return tensor::ExtractOp::create(lb, ll, indices, at);
        };
        Value block;
        if (layout.fullNum) {
          auto pick = scf::IfOp::create(
              b, loc, isFull,
              [&](OpBuilder &tb, Location tl) {
                scf::YieldOp::create(tb, tl, listAt(tb, tl, layout.fullIndices));
              },
              [&](OpBuilder &tb, Location tl) {
                scf::YieldOp::create(tb, tl, listAt(tb, tl, layout.indices));
              });
          block = pick.getResult(0);
        } else {
          block = listAt(b, loc, layout.indices);
        }
        block = toIndex(block);
        Value inRange = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, block,
                                  index(0)),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, block,
                                  numKeyTiles));
        Value tileIndex = arith::SelectOp::create(b, loc, inRange, block,
                                                  index(0));
        // Only the owner entry of a block visits it.
        auto owner = scf::IfOp::create(
            b, loc, inRange,
            [&](OpBuilder &tb, Location tl) {
              SmallVector<Value> at = row;
              at.push_back(tileIndex);
              scf::YieldOp::create(
                  tb, tl,
                  tensor::ExtractOp::create(tb, tl, layoutOwners, at)
                      .getResult());
            },
            [&](OpBuilder &tb, Location tl) {
              scf::YieldOp::create(
                  tb, tl,
                  arith::ConstantIntOp::create(tb, tl, tb.getI32Type(), -1)
                      .getResult());
            });
        Value visit = arith::AndIOp::create(
            b, loc, inRange,
            arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::eq, owner.getResult(0),
                arith::IndexCastOp::create(b, loc, b.getI32Type(), code)));
        KeyTile k = buildKeyTile(tileIndex);
        if (layout.fullNum)
          k.fullListed = isFull;
        Value kind = buildTileKind(q, k);
        kind = arith::SelectOp::create(
            b, loc, visit, kind, kindConstant(b, loc, BlockKind::Empty));
        return buildDispatch(q, k, kind, args);
      });
}
