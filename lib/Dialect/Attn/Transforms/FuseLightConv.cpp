//===- FuseLightConv.cpp - fused form of attn.lightconv -------------------===//
//
// attn.lightconv (docs/Semantics.md §9) with the softmax of the kernel taken
// once, up front, and spread to one weight per channel, wc[t, c] =
// w'[g(c), t] ([K, C], f32). Then per (batch, block of T positions, block of
// channels), an scf.forall iteration:
//
//   xp  = the block's input rows n0 - P .. n0 + T + K - 2 - P, rows outside
//         [0, N) zero (a copy of at most T + K - 1 rows)
//   out[n, c] = sum_t wc[t, c] xp[n + t, c]      loops (t, n, c)
//
// The innermost loop walks channels contiguously in xp, wc and the output
// block, which stays in cache across the K taps; LLVM's loop vectorizer
// turns it into vector FMAs.
//
// Taken: static C, Hc and K, f32 input and output.
//
//===----------------------------------------------------------------------===//
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
  if (ShapedType::isDynamic(c) || ShapedType::isDynamic(heads) ||
      ShapedType::isDynamic(width) || heads < 1 || width < 1 ||
      c % heads != 0 || (!op.getCausal() && width % 2 == 0) ||
      !xType.getElementType().isF32() || !initType.getElementType().isF32() ||
      initType.isDynamicDim(2))
    return failure();
  GenericBuilder g{b, loc};
  SmallVector<OpFoldResult> xs = getSizes(b, loc, x);
  SmallVector<OpFoldResult> os = getSizes(b, loc, init);
  assertEqualSizes(b, loc, os[0], xs[0],
                   "attn.lightconv: outs and input differ in B");
  assertEqualSizes(b, loc, os[1], xs[1],
                   "attn.lightconv: outs and input differ in N");

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
  Value numBlocks = arith::CeilDivUIOp::create(b, loc, sizeN, cIndex(b, loc, chunk));
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

  // The rows [start, start + rows + K - 1) of x, clipped to [lo, hi).
  Value start = arith::SubIOp::create(b, loc, n0, cIndex(b, loc, pad));
  Value lo = arith::MaxSIOp::create(b, loc, start, cIndex(b, loc, 0));
  Value end = arith::AddIOp::create(
      b, loc, arith::AddIOp::create(b, loc, start, rows),
      cIndex(b, loc, width - 1));
  Value hi = arith::MinSIOp::create(b, loc, end, sizeN);
  Value count = arith::SubIOp::create(b, loc, hi, lo);
  Value padRows = arith::AddIOp::create(b, loc, rows, cIndex(b, loc, width - 1));
  Value xp = filled2d(b, loc, padRows, cols, 0.0);
  Value src = tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get({ShapedType::kDynamic, cBlock}, b.getF32Type()),
      x, ArrayRef<OpFoldResult>{bi, lo, c0}, ArrayRef<OpFoldResult>{one, count, cols},
      ArrayRef<OpFoldResult>{one, one, one});
  Value destOffset = arith::SubIOp::create(b, loc, lo, start);
  AffineMap id = b.getMultiDimIdentityMap(2);
  Value copied = g.generic(
      ValueRange{src}, slice2d(b, loc, xp, destOffset, count), {id, id},
      parallelIterators(2), [&](OpBuilder &nb, Location nl, ValueRange a) {
        yieldOne(nb, nl, a[0]);
      });
  xp = insert2d(b, loc, copied, xp, destOffset);

  // out[n, c] = sum_t wc[t, c] xp[n + t, c]; loops (t, n, c).
  Value wBlock = slice2d(b, loc, wc, zero, b.getIndexAttr(width), c0, cols);
  Value tile = g.generic(
      ValueRange{xp, wBlock}, filled2d(b, loc, rows, cols, 0.0),
      {g.map(3, {g.d(1) + g.d(0), g.d(2)}), g.dims(3, {0, 2}),
       g.dims(3, {1, 2})},
      g.iterators(3, {0}), [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value p = arith::MulFOp::create(nb, nl, a[1], a[0]);
        yieldOne(nb, nl, arith::AddFOp::create(nb, nl, a[2], p));
      });

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, tile, forall.getRegionIterArgs()[0],
      ArrayRef<OpFoldResult>{bi, n0, c0}, ArrayRef<OpFoldResult>{one, rows, cols},
      ArrayRef<OpFoldResult>{one, one, one});
  return forall.getResult(0);
}
