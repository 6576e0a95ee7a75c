//===- FuseLightConv.cpp - fused form of attn.lightconv -------------------===//
//
// attn.lightconv (docs/Semantics.md §9) with the softmax of the kernel taken
// once, up front, and spread to one weight per channel, wc[t, c] =
// w'[g(c), t] ([K, C], f32). Then per (batch, block of T positions, block of
// channels), an scf.forall iteration:
//
//   xp  = the block's input rows n0 - P .. n0 + T + K - 2 - P, rows outside
//         [0, N) zero (a gather of T + K - 1 rows)
//   for t < K: out[n, c] += wc[t, c] xp[n + t, c]    (one generic per tap)
//
// Each tap's generic walks channels contiguously in xp, wc and the output
// block, which stays in the L1 cache across the K taps;
// attn-cpu-microkernels makes vector FMAs of it (wc's row is a column
// operand).
//
// Taken: static C, Hc and K, f32 input and output.
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

FailureOr<Value> fuse::fuseLightConv(OpBuilder &b, LightConvOp op,
                                     int64_t chunk) {
  Location loc = op.getLoc();
  Value x = op.getInput(), init = op.getInit();
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t c = xType.getDimSize(2), heads = wType.getDimSize(0);
  int64_t width = wType.getDimSize(1);
  if (!attn::detail::hasLightConvStaticShape(op) ||
      !xType.getElementType().isF32() || !initType.getElementType().isF32() ||
      initType.isDynamicDim(2))
    return failure();
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> xs =
      attn::detail::assertLightConvSizes(b, loc, op).first;

  // wc[t, c] = w'[c / (C / Hc), t].
  Value weights = lightConvWeights(b, op, b.getF32Type());
  int64_t group = c / heads;
  Value wc = g.generic(
      ValueRange{},
      emptyTensor(b, loc, {b.getIndexAttr(width), b.getIndexAttr(c)},
                  b.getF32Type()),
      {b.getMultiDimIdentityMap(2)}, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange) {
        Value t = linalg::IndexOp::create(nb, nl, 0);
        Value ch = linalg::IndexOp::create(nb, nl, 1);
        Value gi = arith::DivUIOp::create(nb, nl, ch, cIndex(nb, nl, group));
        Value w = tensor::ExtractOp::create(nb, nl, weights, ValueRange{gi, t});
        yieldOne(nb, nl, convertFloat(nb, nl, w, nb.getF32Type()));
      });

  int64_t pad = op.getCausal() ? width - 1 : (width - 1) / 2;
  // Channel blocks of 64 when they divide C: the output block stays in L1.
  int64_t cBlock = c % 64 == 0 ? 64 : c;
  Value sizeN = toIndexValue(b, loc, xs[1]);
  Value numBlocks =
      arith::CeilDivUIOp::create(b, loc, sizeN, cIndex(b, loc, chunk));
  auto forall = scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{xs[0], numBlocks, b.getIndexAttr(c / cBlock)},
      ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bi = forall.getInductionVars()[0];
  Value n0 = arith::MulIOp::create(b, loc, forall.getInductionVars()[1],
                                   cIndex(b, loc, chunk));
  Value c0 = arith::MulIOp::create(b, loc, forall.getInductionVars()[2],
                                   cIndex(b, loc, cBlock));
  Value rows = chunkRows(b, loc, n0, sizeN, chunk);
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  OpFoldResult cols = b.getIndexAttr(cBlock);

  // xp[r, j] = x[start + r, c0 + j] for start + r in [0, N), else 0, with
  // start = n0 - P: one generic (a gather of K - 1 + T rows; the taps below
  // read it K times).
  Value start = arith::SubIOp::create(b, loc, n0, cIndex(b, loc, pad));
  Value padRows =
      arith::AddIOp::create(b, loc, rows, cIndex(b, loc, width - 1));
  Value xp = g.generic(
      ValueRange{}, emptyTensor(b, loc, {padRows, cols}, b.getF32Type()),
      {b.getMultiDimIdentityMap(2)}, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange) {
        Value r = arith::AddIOp::create(nb, nl, start,
                                        linalg::IndexOp::create(nb, nl, 0));
        Value j = arith::AddIOp::create(nb, nl, c0,
                                        linalg::IndexOp::create(nb, nl, 1));
        Value inside = arith::AndIOp::create(
            nb, nl,
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, r,
                                  cIndex(nb, nl, 0)),
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, r, sizeN));
        Value row =
            arith::SelectOp::create(nb, nl, inside, r, cIndex(nb, nl, 0));
        Value xv = tensor::ExtractOp::create(nb, nl, x, ValueRange{bi, row, j});
        yieldOne(
            nb, nl,
            arith::SelectOp::create(nb, nl, inside, xv, cF32(nb, nl, 0.0)));
      });

  // out[n, c] = sum_t wc[t, c] xp[n + t, c]: per tap t, one element-wise
  // generic over the block (xp's rows t .. t + rows as a tile, wc's row t
  // as a column vector), which attn-cpu-microkernels vectorizes along c.
  // The block of the output, written in place.
  Value outBlock = tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get({ShapedType::kDynamic, cBlock}, b.getF32Type()),
      forall.getRegionIterArgs()[0], ArrayRef<OpFoldResult>{bi, n0, c0},
      ArrayRef<OpFoldResult>{one, rows, cols},
      ArrayRef<OpFoldResult>{one, one, one});
  Value tile0 =
      linalg::FillOp::create(b, loc, cF32(b, loc, 0.0), outBlock).getResult(0);
  auto taps = buildFor(
      b, loc, cIndex(b, loc, 0), cIndex(b, loc, width), cIndex(b, loc, 1),
      ValueRange{tile0}, [&](Value t, ValueRange iter) -> SmallVector<Value> {
        Value xt = slice2d(b, loc, xp, t, rows);
        Value wt = tensor::ExtractSliceOp::create(
            b, loc, RankedTensorType::get({cBlock}, b.getF32Type()), wc,
            ArrayRef<OpFoldResult>{t, c0}, ArrayRef<OpFoldResult>{one, cols},
            ArrayRef<OpFoldResult>{one, one});
        return {g.generic(
            ValueRange{xt, wt}, iter[0],
            {g.dims(2, {0, 1}), g.dims(2, {1}), g.dims(2, {0, 1})},
            parallelIterators(2),
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value p = arith::MulFOp::create(nb, nl, a[1], a[0]);
              yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[2], p));
            })};
      });
  Value tile = taps.getResult(0);

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, tile,
                                        forall.getRegionIterArgs()[0],
                                        ArrayRef<OpFoldResult>{bi, n0, c0},
                                        ArrayRef<OpFoldResult>{one, rows, cols},
                                        ArrayRef<OpFoldResult>{one, one, one});
  return forall.getResult(0);
}
