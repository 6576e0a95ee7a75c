//===- BlockLayout.cpp - attn.sdpa's run-time block layout ----------------===//
//
// `blocks(%num, %idx)` and `full_blocks(%fnum, %fidx)` with `block_size`:
// the run-time checks, and the owner map that both lowerings read. The
// reference lowering looks up each pair's block in it; attn-tile visits the
// listed entries and uses it to count a block listed twice once.
//
//===----------------------------------------------------------------------===//
#include "SdpaLowering.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

BlockLayout mlir::attn::detail::getBlockLayout(SdpaOp op) {
  BlockLayout layout;
  if (!op.getKvNumBlocks())
    return layout;
  layout.num = op.getKvNumBlocks();
  layout.indices = op.getKvIndices();
  layout.fullNum = op.getFullKvNumBlocks();
  layout.fullIndices = op.getFullKvIndices();
  layout.blockQ = op.getBlockSizeAttr()[0];
  layout.blockK = op.getBlockSizeAttr()[1];
  return layout;
}

void mlir::attn::detail::assertBlockLayoutSizes(OpBuilder &b, Location loc,
                                                const BlockLayout &layout,
                                                Value q) {
  if (!layout)
    return;
  SmallVector<OpFoldResult> qs = getSizes(b, loc, q);
  Value nqb = arith::CeilDivUIOp::create(
      b, loc, toIndexValue(b, loc, qs[2]),
      arith::ConstantIndexOp::create(b, loc, layout.blockQ));
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [num, indices, what] :
       {std::make_tuple(layout.num, layout.indices, "blocks"),
        std::make_tuple(layout.fullNum, layout.fullIndices, "full_blocks")}) {
    if (!num)
      continue;
    SmallVector<OpFoldResult> n = getSizes(b, loc, num);
    SmallVector<OpFoldResult> i = getSizes(b, loc, indices);
    for (unsigned d = 0; d < 3; ++d)
      assertEqualSizes(b, loc, n[d], i[d],
                       Twine("attn.sdpa: ") + what +
                           " counts and indices differ in dim " + Twine(d));
    assertEqualSizes(b, loc, n[2], nqb,
                     Twine("attn.sdpa: ") + what +
                         " does not have ceil(Nq / BQ) query blocks");
    for (unsigned d = 0; d < 2; ++d) {
      Value size = toIndexValue(b, loc, n[d]);
      Value full = toIndexValue(b, loc, qs[d]);
      Value ok = arith::OrIOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, size, one),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, size, full));
      cf::AssertOp::create(b, loc, ok,
                           (Twine("attn.sdpa: ") + what + " dim " + Twine(d) +
                            " is neither " + (d == 0 ? "B" : "H") + " nor 1")
                               .str());
    }
  }
  if (layout.fullNum) {
    SmallVector<OpFoldResult> n = getSizes(b, loc, layout.num);
    SmallVector<OpFoldResult> f = getSizes(b, loc, layout.fullNum);
    for (unsigned d = 0; d < 2; ++d)
      assertEqualSizes(b, loc, n[d], f[d],
                       "attn.sdpa: blocks and full_blocks counts differ in "
                       "dim " +
                           Twine(d));
  }
}

std::pair<Value, Value> mlir::attn::detail::layoutRow(OpBuilder &b,
                                                      Location loc,
                                                      const BlockLayout &layout,
                                                      Value bIdx, Value hIdx) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto pick = [&](unsigned d, Value idx) -> Value {
    Value size = tensor::DimOp::create(b, loc, layout.num, d);
    return arith::SelectOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, size, one),
        zero, idx);
  };
  return {pick(0, bIdx), pick(1, hIdx)};
}

Value mlir::attn::detail::listedCount(OpBuilder &b, Location loc, Value num,
                                      Value indices, ValueRange row) {
  Value count = arith::IndexCastOp::create(
      b, loc, b.getIndexType(), tensor::ExtractOp::create(b, loc, num, row));
  Value length = tensor::DimOp::create(b, loc, indices, 3);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  return arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, count, zero), length);
}

Value mlir::attn::detail::fullListLength(OpBuilder &b, Location loc,
                                         const BlockLayout &layout) {
  if (!layout.fullIndices)
    return arith::ConstantIndexOp::create(b, loc, 0);
  return tensor::DimOp::create(b, loc, layout.fullIndices, 3);
}

/// Writes, for the row (bl, hl, qb), `base + e` at each listed block of the
/// list (num, indices), last entry first, so that the first entry that
/// lists a block is its owner.
static Value writeOwners(OpBuilder &b, Location loc, Value owners, Value num,
                         Value indices, ValueRange row, Value base,
                         Value numKeyBlocks) {
  Value count = listedCount(b, loc, num, indices, row);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, zero, count, one, ValueRange{owners},
      [&](OpBuilder &nb, Location nl, Value r, ValueRange args) {
        Value e = arith::SubIOp::create(
            nb, nl, arith::SubIOp::create(nb, nl, count, r), one);
        SmallVector<Value> at(row.begin(), row.end());
        at.push_back(e);
        Value block = arith::IndexCastOp::create(
            nb, nl, nb.getIndexType(),
            tensor::ExtractOp::create(nb, nl, indices, at));
        Value inRange = arith::AndIOp::create(
            nb, nl,
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, block,
                                  zero),
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, block,
                                  numKeyBlocks));
        auto ifOp = scf::IfOp::create(
            nb, nl, inRange,
            [&](OpBuilder &tb, Location tl) {
              SmallVector<Value> dest(row.begin(), row.end());
              dest.push_back(block);
              Value code = arith::IndexCastOp::create(
                  tb, tl, tb.getI32Type(),
                  arith::AddIOp::create(tb, tl, base, e));
              scf::YieldOp::create(
                  tb, tl,
                  tensor::InsertOp::create(tb, tl, code, args[0], dest)
                      .getResult());
            },
            [&](OpBuilder &tb, Location tl) {
              scf::YieldOp::create(tb, tl, args[0]);
            });
        scf::YieldOp::create(nb, nl, ifOp.getResults());
      });
  return loop.getResult(0);
}

Value mlir::attn::detail::buildBlockOwners(OpBuilder &b, Location loc,
                                           const BlockLayout &layout,
                                           Value numKeyBlocks) {
  SmallVector<OpFoldResult> n = getSizes(b, loc, layout.num);
  SmallVector<OpFoldResult> sizes = {n[0], n[1], n[2], numKeyBlocks};
  Type i32 = b.getI32Type();
  Value init = linalg::FillOp::create(
                   b, loc,
                   arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32, -1))
                       .getResult(),
                   emptyTensor(b, loc, sizes, i32))
                   .getResult(0);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value fullLength = fullListLength(b, loc, layout);
  SmallVector<Value> upper = {toIndexValue(b, loc, n[0]),
                              toIndexValue(b, loc, n[1]),
                              toIndexValue(b, loc, n[2])};
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, {zero, zero, zero}, upper, {one, one, one}, ValueRange{init},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) {
        // Partial entries first, full ones over them: full entries own.
        Value owners =
            writeOwners(nb, nl, args[0], layout.num, layout.indices, ivs,
                        fullLength, numKeyBlocks);
        if (layout.fullNum)
          owners = writeOwners(nb, nl, owners, layout.fullNum,
                               layout.fullIndices, ivs, zero, numKeyBlocks);
        return scf::ValueVector{owners};
      });
  return nest.results.front();
}
