//===- FuseLightConv.cpp - fused form of attn.lightconv -------------------===//
//
// attn.lightconv (docs/Semantics.md §9) with the softmax of the kernel taken
// once, up front, and spread to one weight per channel, wc[t, c] =
// w'[g(c), t] ([K, C], f32). Then per (batch, block of T positions, block of
// channels), an scf.forall iteration that writes a new result tensor:
//
//   xp  = the block's input rows n0 - P .. n0 + T + K - 2 - P, rows outside
//         [0, N) zero
//   out[n, c] = sum_t wc[t, c] xp[n + t, c]
//
// With whole vectors of channels (registerBlockedTaps): xp gathered by
// vectors, each with a prefetch of the vector that the forall's next
// iteration gathers in its place (x's rows are C floats apart, a stride the
// hardware prefetchers do not follow); then 8
// output rows' vector accumulators stay in registers across the K taps, each
// output vector is stored once. Otherwise (tapGenerics) one element-wise
// generic per tap over the block, which stays in the L1 cache across the taps.
//
// Taken: static C, Hc and K, f32 input and output.
//
//===----------------------------------------------------------------------===//
#include "DecomposeUtils.h"
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

namespace {

/// f32 lanes of the register-blocked kernel's vectors (an AVX-512 register;
/// LLVM splits them on narrower targets).
constexpr int64_t kLanes = 16;
/// Output rows whose accumulators stay in registers across the taps.
constexpr int64_t kRowBlock = 8;

/// `x[bi, r, col : col + kLanes]` for `r = start + rr` in [0, N), else 0:
/// one row of the zero-padded input block (the row index clamped, the
/// vector selected; no branch).
Value paddedRow(OpBuilder &b, Location loc, Value x, Value bi, Value r,
                Value sizeN, Value col) {
  auto vType = VectorType::get({kLanes}, b.getF32Type());
  Value inside = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, r,
                            cIndex(b, loc, 0)),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, sizeN));
  Value row = arith::SelectOp::create(b, loc, inside, r, cIndex(b, loc, 0));
  Value v =
      vector::TransferReadOp::create(b, loc, vType, x, ValueRange{bi, row, col},
                                     cF32(b, loc, 0.0), ArrayRef<bool>{true});
  Value zeros = arith::ConstantOp::create(
      b, loc, vType, DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f)));
  return arith::SelectOp::create(b, loc, inside, v, zeros);
}

/// `out[r0 + i, cv : cv + kLanes] = sum_t wc[t, c0 + cv] xp[r0 + i + t, cv]`
/// for i < `count`: the `count` accumulators stay in registers across the K
/// taps (per tap one load of the weights and `count` loads of xp, `count`
/// FMAs), then one store each.
Value rowBlock(OpBuilder &b, Location loc, Value xp, Value wc, Value out,
               Value r0, Value cv, Value c0, int64_t count, int64_t width) {
  auto vType = VectorType::get({kLanes}, b.getF32Type());
  Value pad = cF32(b, loc, 0.0);
  Value zeros = arith::ConstantOp::create(
      b, loc, vType, DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f)));
  SmallVector<Value> init(count, zeros);
  Value col = arith::AddIOp::create(b, loc, c0, cv);
  auto taps = buildFor(
      b, loc, cIndex(b, loc, 0), cIndex(b, loc, width), cIndex(b, loc, 1), init,
      [&](Value t, ValueRange acc) -> SmallVector<Value> {
        Value w = vector::TransferReadOp::create(
            b, loc, vType, wc, ValueRange{t, col}, pad, ArrayRef<bool>{true});
        Value base = arith::AddIOp::create(b, loc, r0, t);
        SmallVector<Value> next;
        for (int64_t i = 0; i < count; ++i) {
          Value r = arith::AddIOp::create(b, loc, base, cIndex(b, loc, i));
          Value xv = vector::TransferReadOp::create(
              b, loc, vType, xp, ValueRange{r, cv}, pad, ArrayRef<bool>{true});
          next.push_back(vector::FMAOp::create(b, loc, xv, w, acc[i]));
        }
        return next;
      });
  for (int64_t i = 0; i < count; ++i) {
    Value r = arith::AddIOp::create(b, loc, r0, cIndex(b, loc, i));
    out =
        vector::TransferWriteOp::create(b, loc, taps.getResult(i), out,
                                        ValueRange{r, cv}, ArrayRef<bool>{true})
            .getResult();
  }
  return out;
}

/// Prefetches the vector of x that the next iteration of the forall gathers
/// in place of `x[bi, r, col]` (x's rows come from memory once, a row of C
/// floats apart, a stride the hardware prefetchers do not follow): the same
/// row in the next channel block, or after the last channel block the row
/// `chunk` further on (clamped to [0, N)) in the first one.
void prefetchNext(OpBuilder &b, Location loc, Value xBuf, Value bi, Value r,
                  Value lastRow, Value col, Value cv, int64_t cBlock,
                  int64_t chunk) {
  int64_t c = cast<MemRefType>(xBuf.getType()).getDimSize(2);
  Value nextCol = arith::AddIOp::create(b, loc, col, cIndex(b, loc, cBlock));
  Value wrap = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, nextCol,
                                     cIndex(b, loc, c));
  Value row = arith::SelectOp::create(
      b, loc, wrap, arith::AddIOp::create(b, loc, r, cIndex(b, loc, chunk)), r);
  row = arith::MaxSIOp::create(
      b, loc, arith::MinSIOp::create(b, loc, row, lastRow), cIndex(b, loc, 0));
  memref::PrefetchOp::create(
      b, loc, xBuf,
      ValueRange{bi, row, arith::SelectOp::create(b, loc, wrap, cv, nextCol)},
      /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
}

/// xp, the block's `padRows` zero-padded input rows from `start` on (rows
/// outside [0, N) zero), gathered by whole vectors into a static tile, each
/// with a prefetch of the vector that the next iteration gathers in its
/// place.
Value gatherPadded(OpBuilder &b, Location loc, Value x, Value xBuf, Value bi,
                   Value start, Value sizeN, Value c0, int64_t chunk,
                   int64_t padRows, int64_t cBlock) {
  Value lanes = cIndex(b, loc, kLanes), cEnd = cIndex(b, loc, cBlock);
  Value zero = cIndex(b, loc, 0), oneIdx = cIndex(b, loc, 1);
  Value lastRow = arith::SubIOp::create(b, loc, sizeN, oneIdx);
  Value xp0 = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{padRows, cBlock}, b.getF32Type());
  return buildFor(
             b, loc, zero, cIndex(b, loc, padRows), oneIdx, ValueRange{xp0},
             [&](Value rr, ValueRange rowIter) -> SmallVector<Value> {
               Value r = arith::AddIOp::create(b, loc, start, rr);
               return {
                   buildFor(
                       b, loc, zero, cEnd, lanes, rowIter,
                       [&](Value cv, ValueRange iter) -> SmallVector<Value> {
                         Value col = arith::AddIOp::create(b, loc, c0, cv);
                         prefetchNext(b, loc, xBuf, bi, r, lastRow, col, cv,
                                      cBlock, chunk);
                         Value v = paddedRow(b, loc, x, bi, r, sizeN, col);
                         return {vector::TransferWriteOp::create(
                                     b, loc, v, iter[0], ValueRange{rr, cv},
                                     ArrayRef<bool>{true})
                                     .getResult()};
                       })
                       .getResult(0)};
             })
      .getResult(0);
}

/// The register-blocked taps (C block a multiple of kLanes) from `src`, the
/// block's `rows + K - 1` input rows (xp): per block of kRowBlock output
/// rows and vector of channels the taps with the accumulators in registers
/// (the rows past the last whole block one at a time). Each output vector is
/// written once.
Value registerBlockedTaps(OpBuilder &b, Location loc, Value src, Value wc,
                          Value outBlock, Value c0, Value rows, int64_t width) {
  int64_t cBlock = cast<RankedTensorType>(outBlock.getType()).getDimSize(1);
  Value lanes = cIndex(b, loc, kLanes), cEnd = cIndex(b, loc, cBlock);
  Value zero = cIndex(b, loc, 0);
  // Rows [0, whole) in blocks of kRowBlock, then [whole, rows) one by one.
  Value whole = arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, rows, cIndex(b, loc, kRowBlock)),
      cIndex(b, loc, kRowBlock));
  auto rowLoop = [&](Value lo, Value hi, int64_t count, Value out) {
    return buildFor(
               b, loc, lo, hi, cIndex(b, loc, count), ValueRange{out},
               [&](Value r0, ValueRange rowIter) -> SmallVector<Value> {
                 return {buildFor(b, loc, zero, cEnd, lanes, rowIter,
                                  [&](Value cv,
                                      ValueRange iter) -> SmallVector<Value> {
                                    return {rowBlock(b, loc, src, wc, iter[0],
                                                     r0, cv, c0, count, width)};
                                  })
                             .getResult(0)};
               })
        .getResult(0);
  };
  Value out = rowLoop(zero, whole, kRowBlock, outBlock);
  return rowLoop(whole, rows, 1, out);
}

/// The register-blocked kernel on one block: xp, the block's zero-padded
/// input rows (a static tile, rows of cBlock floats), then the taps on it.
Value blockedTapsOfBlock(OpBuilder &b, Location loc, Value x, Value xBuf,
                         Value wc, Value outBlock, Value bi, Value start,
                         Value sizeN, Value c0, Value rows, int64_t blockRows,
                         int64_t width) {
  int64_t cBlock = cast<RankedTensorType>(outBlock.getType()).getDimSize(1);
  Value xp = gatherPadded(b, loc, x, xBuf, bi, start, sizeN, c0, blockRows,
                          blockRows + width - 1, cBlock);
  return registerBlockedTaps(b, loc, xp, wc, outBlock, c0, rows, width);
}

/// The general form (any C block): xp, the block's `rows + K - 1` zero-padded
/// input rows by one gather generic, then per tap t one element-wise generic
/// `out += wc[t] * xp[t : t + rows]` over the block (wc's row a column
/// operand, which attn-cpu-microkernels vectorizes along c).
Value tapGenerics(OpBuilder &b, Location loc, Value x, Value wc, Value outBlock,
                  Value bi, Value start, Value sizeN, Value c0, Value rows,
                  int64_t width) {
  GenericBuilder g{b, loc};
  int64_t cBlock = cast<RankedTensorType>(outBlock.getType()).getDimSize(1);
  OpFoldResult one = b.getIndexAttr(1), cols = b.getIndexAttr(cBlock);
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
  Value tile0 =
      linalg::FillOp::create(b, loc, cF32(b, loc, 0.0), outBlock).getResult(0);
  return buildFor(b, loc, cIndex(b, loc, 0), cIndex(b, loc, width),
                  cIndex(b, loc, 1), ValueRange{tile0},
                  [&](Value t, ValueRange iter) -> SmallVector<Value> {
                    Value xt = slice2d(b, loc, xp, t, rows);
                    Value wt = tensor::ExtractSliceOp::create(
                        b, loc, RankedTensorType::get({cBlock}, b.getF32Type()),
                        wc, ArrayRef<OpFoldResult>{t, c0},
                        ArrayRef<OpFoldResult>{one, cols},
                        ArrayRef<OpFoldResult>{one, one});
                    return {g.generic(
                        ValueRange{xt, wt}, iter[0],
                        {g.dims(2, {0, 1}), g.dims(2, {1}), g.dims(2, {0, 1})},
                        parallelIterators(2),
                        [&](OpBuilder &nb, Location nl, ValueRange a) {
                          Value p = arith::MulFOp::create(nb, nl, a[1], a[0]);
                          yieldOne(nb, nl,
                                   arith::AddFOp::create(nb, nl, a[2], p));
                        })};
                  })
      .getResult(0);
}

} // namespace

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
  bool wholeVectors = cBlock % kLanes == 0;
  Value sizeN = toIndexValue(b, loc, xs[1]);
  Value numBlocks =
      arith::CeilDivUIOp::create(b, loc, sizeN, cIndex(b, loc, chunk));
  // Every element of the result is written and init is never read, so the
  // forall writes a new tensor: bufferization then returns the buffer it
  // allocates, where writing into init (a function argument) would have the
  // deallocation pipeline copy the whole result once more before returning.
  Value result = tensor::EmptyOp::create(b, loc, getSizes(b, loc, init),
                                         initType.getElementType());
  // x as a buffer (read only) for the prefetches of the blocked kernel.
  Value xBuf;
  if (wholeVectors)
    xBuf = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(xType.getShape(), b.getF32Type()), x,
        /*read_only=*/true);
  auto forall = scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{xs[0], numBlocks, b.getIndexAttr(c / cBlock)},
      ValueRange{result}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bi = forall.getInductionVars()[0];
  Value n0 = arith::MulIOp::create(b, loc, forall.getInductionVars()[1],
                                   cIndex(b, loc, chunk));
  Value c0 = arith::MulIOp::create(b, loc, forall.getInductionVars()[2],
                                   cIndex(b, loc, cBlock));
  Value rows = chunkRows(b, loc, n0, sizeN, chunk);
  OpFoldResult one = b.getIndexAttr(1);
  OpFoldResult cols = b.getIndexAttr(cBlock);

  Value start = arith::SubIOp::create(b, loc, n0, cIndex(b, loc, pad));
  // The block of the output, written in place.
  Value outBlock = tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get({ShapedType::kDynamic, cBlock}, b.getF32Type()),
      forall.getRegionIterArgs()[0], ArrayRef<OpFoldResult>{bi, n0, c0},
      ArrayRef<OpFoldResult>{one, rows, cols},
      ArrayRef<OpFoldResult>{one, one, one});
  Value tile = wholeVectors
                   ? blockedTapsOfBlock(b, loc, x, xBuf, wc, outBlock, bi,
                                        start, sizeN, c0, rows, chunk, width)
                   : tapGenerics(b, loc, x, wc, outBlock, bi, start, sizeN, c0,
                                 rows, width);

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, tile,
                                        forall.getRegionIterArgs()[0],
                                        ArrayRef<OpFoldResult>{bi, n0, c0},
                                        ArrayRef<OpFoldResult>{one, rows, cols},
                                        ArrayRef<OpFoldResult>{one, one, one});
  return forall.getResult(0);
}
