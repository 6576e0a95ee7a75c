//===- FuseLightConv.cpp - fused form of attn.lightconv -------------------===//
//
// attn.lightconv (docs/Semantics.md §9) with the softmax of the kernel taken
// once, up front, and spread to one weight per (channel, tap). Then per
// (batch, block of T positions, block of channels), an scf.forall iteration
// that writes its block of the outs operand in place:
//
//   xp  = the block's input rows n0 - P .. n0 + T + K - 2 - P, rows outside
//         [0, N) zero
//   out[n, c] = sum_t wc[t, c] xp[n + t, c]
//
// With whole vectors of channels (blockedTapsOfBlock): xp gathered row by
// row into a tile with a padded row pitch, then 16 output rows' vector
// accumulators stay in registers across the K taps, each output vector is
// stored once. Otherwise (tapGenerics) one element-wise generic per tap over
// the block, which stays in the L1 cache across the taps.
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
constexpr int64_t kRowBlock = 16;
/// Output rows of the input-stationary kernel's register block (its
/// accumulators, one input vector and the broadcasts' addresses fit the 32
/// AVX-512 registers).
constexpr int64_t kStationaryRows = 16;
/// How many rows past a register block's inputs its prefetches of x reach.
constexpr int64_t kStationaryPrefetch = 48;
/// The fewest taps for which interior register blocks take the fast FIR form
/// (stationaryFirRows).
constexpr int64_t kMinFirTaps = 4;

/// Channels of a forall iteration's block: all C when they are no whole
/// vectors or at most kMaxChannels, else the largest multiple of kLanes up to
/// kMaxChannels / 2 that divides C (a block's K - 1 + chunk input rows stay
/// in the L2 cache).
int64_t channelBlock(int64_t c) {
  constexpr int64_t kMaxChannels = 1024;
  if (c % kLanes != 0 || c <= kMaxChannels)
    return c;
  int64_t block = kMaxChannels / 2;
  while (c % block != 0)
    block -= kLanes;
  return block;
}

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

/// `out[r0 + i, cv : cv + kLanes] = sum_t wv[t] xp[r0 + i + t, cv]` for i <
/// `count`, where `xp` holds the block's input rows and `wv` ([K, kLanes])
/// the weights of the vector of channels: the `count` accumulators stay in
/// registers across the K taps (per tap one load of the weights and `count`
/// loads of xp, `count` FMAs), then one store each.
Value rowBlock(OpBuilder &b, Location loc, Value xp, Value wv, Value out,
               Value r0, Value cv, int64_t count, int64_t width) {
  auto vType = VectorType::get({kLanes}, b.getF32Type());
  Value pad = cF32(b, loc, 0.0), zero = cIndex(b, loc, 0);
  Value zeros = arith::ConstantOp::create(
      b, loc, vType, DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f)));
  SmallVector<Value> init(count, zeros);
  auto taps = buildFor(
      b, loc, zero, cIndex(b, loc, width), cIndex(b, loc, 1), init,
      [&](Value t, ValueRange acc) -> SmallVector<Value> {
        Value w = vector::TransferReadOp::create(
            b, loc, vType, wv, ValueRange{t, zero}, pad, ArrayRef<bool>{true});
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

/// xp, the block's input rows `start .. start + padRows - 1` (channels c0 ..
/// c0 + cBlock - 1) gathered row by row, each vector by `read(row, channel)`,
/// into `dest` ([padRows, cBlock + kLanes]: a pitch of an odd number of
/// cache lines when cBlock is a power of two, so that a column of xp spreads
/// over the L1 sets where a column of x falls into two).
Value gatherRows(
    OpBuilder &b, Location loc, Value dest, Value start, Value c0,
    int64_t padRows, int64_t cBlock,
    function_ref<Value(OpBuilder &, Location, Value, Value)> read) {
  Value zero = cIndex(b, loc, 0);
  auto row = [&](Value rr, ValueRange rowIter) -> SmallVector<Value> {
    Value r = arith::AddIOp::create(b, loc, start, rr);
    auto vec = [&](Value cv, ValueRange iter) -> SmallVector<Value> {
      Value ch = arith::AddIOp::create(b, loc, c0, cv);
      return {vector::TransferWriteOp::create(b, loc, read(b, loc, r, ch),
                                              iter[0], ValueRange{rr, cv},
                                              ArrayRef<bool>{true})
                  .getResult()};
    };
    return {buildFor(b, loc, zero, cIndex(b, loc, cBlock),
                     cIndex(b, loc, kLanes), rowIter, vec)
                .getResult(0)};
  };
  return buildFor(b, loc, zero, cIndex(b, loc, padRows), cIndex(b, loc, 1),
                  ValueRange{dest}, row)
      .getResult(0);
}

/// The output rows of a block (`outBlock`, `rows` x C block, a multiple of
/// kLanes) in register blocks: per `block` rows and then per vector of
/// channels (the vector innermost) `kernel(r0, cv, count, out)` writes rows
/// r0 .. r0 + count - 1 of vector cv into `out` and returns it; the rows past
/// the last whole block one at a time (count 1).
Value rowBlocks(
    OpBuilder &b, Location loc, Value outBlock, Value rows, int64_t block,
    function_ref<Value(Value r0, Value cv, int64_t count, Value out)> kernel) {
  int64_t cBlock = cast<RankedTensorType>(outBlock.getType()).getDimSize(1);
  Value zero = cIndex(b, loc, 0);
  Value whole = arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, rows, cIndex(b, loc, block)),
      cIndex(b, loc, block));
  auto rowLoop = [&](Value lo, Value hi, int64_t count, Value out) {
    auto rowsOf = [&](Value r0, ValueRange rowIter) -> SmallVector<Value> {
      auto vec = [&](Value cv, ValueRange iter) -> SmallVector<Value> {
        return {kernel(r0, cv, count, iter[0])};
      };
      return {buildFor(b, loc, zero, cIndex(b, loc, cBlock),
                       cIndex(b, loc, kLanes), rowIter, vec)
                  .getResult(0)};
    };
    return buildFor(b, loc, lo, hi, cIndex(b, loc, count), ValueRange{out},
                    rowsOf)
        .getResult(0);
  };
  Value out = rowLoop(zero, whole, block, outBlock);
  return rowLoop(whole, rows, 1, out);
}

/// The register-blocked kernel on one block (C block a multiple of kLanes):
/// xp, the block's `rows + K - 1` input rows, gathered row by row (x is read
/// in its own order, which the hardware prefetchers follow; the blocks at
/// the ends of the sequence read them zero-padded); then per kRowBlock
/// output rows (the rows past the last whole block one at a time) and vector
/// of channels the K taps, with the vector's K weights contiguous in `wc`
/// ([C / kLanes, K, kLanes]); the output is written row block by row block.
/// Before each whole row block and vector: prefetches of the next row
/// block's output lines (for writing; `oBuf`, outs as a buffer) and of the
/// next block's input rows past this one's (into L2; `xBuf`), so that the
/// memory traffic overlaps the taps instead of stalling the gather and the
/// stores.
Value blockedTapsOfBlock(OpBuilder &b, Location loc, Value x, Value wc,
                         Value outBlock, Value oBuf, Value xBuf, Value bi,
                         Value n0, Value start, Value sizeN, Value c0,
                         Value rows, int64_t blockRows, int64_t width) {
  int64_t cBlock = cast<RankedTensorType>(outBlock.getType()).getDimSize(1);
  int64_t padRows = blockRows + width - 1;
  auto vType = VectorType::get({kLanes}, b.getF32Type());
  auto xpType =
      RankedTensorType::get({padRows, cBlock + kLanes}, b.getF32Type());
  Value zero = cIndex(b, loc, 0);
  Value end =
      arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, start, rows),
                            cIndex(b, loc, width - 1));
  Value interior = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, start, zero),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, end, sizeN));
  Value xp0 = tensor::EmptyOp::create(b, loc, xpType.getShape(),
                                      xpType.getElementType());
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{xpType}, interior,
                                /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    auto read = [&](OpBuilder &nb, Location nl, Value r, Value ch) -> Value {
      return vector::TransferReadOp::create(
          nb, nl, vType, x, ValueRange{bi, r, ch}, cF32(nb, nl, 0.0),
          ArrayRef<bool>{true});
    };
    scf::YieldOp::create(
        b, loc, gatherRows(b, loc, xp0, start, c0, padRows, cBlock, read));
    b.setInsertionPointToStart(ifOp.elseBlock());
    auto padded = [&](OpBuilder &nb, Location nl, Value r, Value ch) -> Value {
      return paddedRow(nb, nl, x, bi, r, sizeN, ch);
    };
    scf::YieldOp::create(
        b, loc, gatherRows(b, loc, xp0, start, c0, padRows, cBlock, padded));
  }
  Value xp = ifOp.getResult(0);

  auto kernel = [&](Value r0, Value cv, int64_t count, Value out) -> Value {
    // The vector's K weights.
    Value v = arith::DivUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, c0, cv), cIndex(b, loc, kLanes));
    Value wv = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({width, kLanes}, b.getF32Type()), wc,
        ArrayRef<OpFoldResult>{v, b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(width),
                               b.getIndexAttr(kLanes)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                               b.getIndexAttr(1)});
    if (count == kRowBlock) {
      // The lines of the next row block's output vectors, for writing.
      Value ch = arith::AddIOp::create(b, loc, c0, cv);
      Value next =
          arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, n0, r0),
                                cIndex(b, loc, kRowBlock));
      Value last = arith::SubIOp::create(b, loc, sizeN, cIndex(b, loc, 1));
      for (int64_t i = 0; i < kRowBlock; ++i) {
        Value r = arith::MinSIOp::create(
            b, loc, arith::AddIOp::create(b, loc, next, cIndex(b, loc, i)),
            last);
        memref::PrefetchOp::create(b, loc, oBuf, ValueRange{bi, r, ch},
                                   /*isWrite=*/true, /*localityHint=*/3,
                                   /*isDataCache=*/true);
        // The next block's input rows past this block's, into L2.
        Value xr = arith::MinSIOp::create(
            b, loc,
            arith::AddIOp::create(b, loc,
                                  arith::AddIOp::create(b, loc, end, r0),
                                  cIndex(b, loc, i)),
            last);
        memref::PrefetchOp::create(b, loc, xBuf, ValueRange{bi, xr, ch},
                                   /*isWrite=*/false, /*localityHint=*/2,
                                   /*isDataCache=*/true);
      }
    }
    return rowBlock(b, loc, xp, wv, out, r0, cv, count, width);
  };
  return rowBlocks(b, loc, outBlock, rows, kRowBlock, kernel);
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

/// What the input-stationary kernel (channels of one kernel head per vector)
/// reads: x [B, N, C] and the weight table wtab [Hc, kStationaryRows, K]
/// (wtab[h, i, t] = w'[h, t]: every (accumulator, tap) pair of a register
/// block reads its weight from an address of its own, see stationaryRows),
/// both as read-only buffers.
struct StationaryOperands {
  Value x, wtab, ftab, bi, sizeN;
  int64_t width, group;
};

/// `x[bi, r, col : col + kLanes]`, with rows outside [0, N) read as zeros
/// when `padded` (the row clamped, the vector selected; no branch).
Value stationaryRead(OpBuilder &b, Location loc, const StationaryOperands &k,
                     bool padded, Value r, Value col) {
  auto vType = VectorType::get({kLanes}, b.getF32Type());
  if (!padded)
    return vector::LoadOp::create(b, loc, vType, k.x, ValueRange{k.bi, r, col});
  Value inside = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, r,
                            cIndex(b, loc, 0)),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, k.sizeN));
  Value row = arith::SelectOp::create(b, loc, inside, r, cIndex(b, loc, 0));
  Value v =
      vector::LoadOp::create(b, loc, vType, k.x, ValueRange{k.bi, row, col});
  Value zeros = arith::ConstantOp::create(
      b, loc, vType, DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f)));
  return arith::SelectOp::create(b, loc, inside, v, zeros);
}

/// Taps of the even-indexed half of a kernel of `width` taps (the fast FIR
/// form's h0; its odd half h1 has width / 2).
int64_t evenTaps(int64_t width) { return (width + 1) / 2; }

/// stationaryRows for `count` (even) rows in the two-parallel fast FIR form:
/// with e[j] = x[x0 + 2j], o[j] = x[x0 + 2j + 1], h0[s] = w'[2s], h1[s] =
/// w'[2s + 1] (0 past the kernel) and M = count / 2,
///   P[m] = sum_s h0[s] e[m + s]   (m <= M)
///   Q[m] = sum_s h1[s] o[m + s]   (m < M)
///   S[m] = sum_s (h0 + h1)[s] (o[m + s] + e[m + s + 1])   (m < M)
///   out[2m] = P[m] + Q[m],  out[2m + 1] = S[m] - P[m + 1] - Q[m]
/// (3K / 2 + 2 FMAs per pair of rows instead of 2K; the sums and the
/// differences are additions). The inputs in order, each loaded once; an
/// e[j] past the block's last input row (odd K) only enters P[M] and S[M -
/// 1] with the same weight, where it cancels: it is left out of both. The
/// weights are broadcasts from ftab[head, a, s], an address per accumulator
/// a (P, then Q, then S) and tap.
Value stationaryFirRows(OpBuilder &b, Location loc, const StationaryOperands &k,
                        Value out, Value x0, Value o0, Value col, Value cv,
                        Value head, int64_t count, Value prefetchRow) {
  auto vType = VectorType::get({kLanes}, b.getF32Type());
  Value zeros = arith::ConstantOp::create(
      b, loc, vType, DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f)));
  int64_t m2 = count / 2, k0 = evenTaps(k.width), k1 = k.width / 2;
  Value last = prefetchRow
                   ? arith::SubIOp::create(b, loc, k.sizeN, cIndex(b, loc, 1))
                   : Value();
  SmallVector<Value> p(m2 + 1, zeros), q(m2, zeros), s(m2, zeros);
  auto load = [&](int64_t r) {
    return stationaryRead(b, loc, k, /*padded=*/false,
                          arith::AddIOp::create(b, loc, x0, cIndex(b, loc, r)),
                          col);
  };
  auto fma = [&](Value xv, int64_t a, int64_t tap, Value acc) -> Value {
    Value w = memref::LoadOp::create(
        b, loc, k.ftab,
        ValueRange{head, cIndex(b, loc, a), cIndex(b, loc, tap)});
    return vector::FMAOp::create(
        b, loc, xv, vector::BroadcastOp::create(b, loc, vType, w), acc);
  };
  Value oPrev;
  int64_t fetched = 0;
  for (int64_t j = 0; j < m2 + k0; ++j) {
    Value e = 2 * j <= count + k.width - 2 ? load(2 * j) : Value();
    if (e)
      for (int64_t m = std::max<int64_t>(0, j - k0 + 1); m <= std::min(m2, j);
           ++m)
        p[m] = fma(e, m, j - m, p[m]);
    Value o = j <= m2 + k0 - 2 ? load(2 * j + 1) : Value();
    if (o)
      for (int64_t m = std::max<int64_t>(0, j - k1 + 1);
           m <= std::min(m2 - 1, j); ++m)
        q[m] = fma(o, m2 + 1 + m, j - m, q[m]);
    if (j >= 1) {
      Value u = e ? arith::AddFOp::create(b, loc, oPrev, e).getResult() : oPrev;
      for (int64_t m = std::max<int64_t>(0, j - k0);
           m <= std::min(m2 - 1, j - 1); ++m)
        s[m] = fma(u, 2 * m2 + 1 + m, j - 1 - m, s[m]);
    }
    oPrev = o;
    // The `count` prefetched rows spread evenly over the inputs.
    for (; prefetchRow && fetched < (j + 1) * count / (m2 + k0); ++fetched) {
      Value r = arith::MinSIOp::create(
          b, loc,
          arith::AddIOp::create(b, loc, prefetchRow, cIndex(b, loc, fetched)),
          last);
      memref::PrefetchOp::create(b, loc, k.x, ValueRange{k.bi, r, col},
                                 /*isWrite=*/false, /*localityHint=*/2,
                                 /*isDataCache=*/true);
    }
  }
  auto store = [&](Operation *v, int64_t i) {
    v->setAttr(kNonTemporalAttr, b.getUnitAttr());
    out = vector::TransferWriteOp::create(
              b, loc, v->getResult(0), out,
              ValueRange{arith::AddIOp::create(b, loc, o0, cIndex(b, loc, i)),
                         cv},
              ArrayRef<bool>{true})
              .getResult();
  };
  for (int64_t m = 0; m < m2; ++m) {
    store(arith::AddFOp::create(b, loc, p[m], q[m]), 2 * m);
    store(arith::SubFOp::create(
              b, loc, arith::SubFOp::create(b, loc, s[m], p[m + 1]), q[m]),
          2 * m + 1);
  }
  return out;
}

/// `out[o0 + i, cv : cv + kLanes] = sum_t w'[head, t] x[bi, x0 + i + t, col
/// : col + kLanes]` for i < `count` (`out` the block of outs, its column
/// `cv` x's column `col`), input-stationary: each of the count + K - 1 input
/// vectors is loaded once and feeds the (up to K) accumulators it contributes
/// to, `count` accumulators in vector registers; the weight of each FMA is a
/// scalar broadcast from wtab[head, i, t], an address of its own per (i, t)
/// (nothing for LLVM to merge: each broadcast stays a memory operand of its
/// FMA, where 31 shared weight registers would spill next to the
/// accumulators). Then one store per output vector; the last FMA of each
/// carries `attn.nontemporal` (kNonTemporalAttr: a whole cache line written
/// once, which attn-cpu-microkernels stores non-temporally where it is
/// 64-byte aligned). With `prefetchRow`, prefetches of `count` rows of x from
/// that row on (clamped to N - 1) into L2, spread over the inputs.
Value stationaryRows(OpBuilder &b, Location loc, const StationaryOperands &k,
                     bool padded, Value out, Value x0, Value o0, Value col,
                     Value cv, Value head, int64_t count, Value prefetchRow) {
  auto vType = VectorType::get({kLanes}, b.getF32Type());
  Value zeros = arith::ConstantOp::create(
      b, loc, vType, DenseElementsAttr::get(vType, b.getF32FloatAttr(0.0f)));
  Value last = prefetchRow
                   ? arith::SubIOp::create(b, loc, k.sizeN, cIndex(b, loc, 1))
                   : Value();
  SmallVector<Value> acc(count, zeros);
  for (int64_t j = 0; j < count + k.width - 1; ++j) {
    Value xv = stationaryRead(
        b, loc, k, padded, arith::AddIOp::create(b, loc, x0, cIndex(b, loc, j)),
        col);
    for (int64_t i = std::max<int64_t>(0, j - k.width + 1);
         i <= std::min(count - 1, j); ++i) {
      Value w = memref::LoadOp::create(
          b, loc, k.wtab,
          ValueRange{head, cIndex(b, loc, i), cIndex(b, loc, j - i)});
      auto fma = vector::FMAOp::create(
          b, loc, xv, vector::BroadcastOp::create(b, loc, vType, w), acc[i]);
      if (j - i == k.width - 1)
        fma->setAttr(kNonTemporalAttr, b.getUnitAttr());
      acc[i] = fma;
    }
    if (prefetchRow && j % 2 == 0 && j / 2 < count) {
      Value r = arith::MinSIOp::create(
          b, loc,
          arith::AddIOp::create(b, loc, prefetchRow, cIndex(b, loc, j / 2)),
          last);
      memref::PrefetchOp::create(b, loc, k.x, ValueRange{k.bi, r, col},
                                 /*isWrite=*/false, /*localityHint=*/2,
                                 /*isDataCache=*/true);
    }
  }
  for (int64_t i = 0; i < count; ++i)
    out = vector::TransferWriteOp::create(
              b, loc, acc[i], out,
              ValueRange{arith::AddIOp::create(b, loc, o0, cIndex(b, loc, i)),
                         cv},
              ArrayRef<bool>{true})
              .getResult();
  return out;
}

/// One forall iteration's block of the input-stationary form (`outBlock`,
/// rows x C block of outs, rows from start + pad on, channels from c0 on).
/// Per kStationaryRows rows and then per vector of channels (the vector
/// innermost: its head, and with it the weights' addresses, changes along
/// that loop, so the weight loads stay in the kernel), one register block;
/// the rows past the last whole block one at a time. The blocks at the ends
/// of the sequence read x zero-padded.
Value stationaryBlock(OpBuilder &b, Location loc, const StationaryOperands &k,
                      Value outBlock, Value start, Value c0, Value rows) {
  Value zero = cIndex(b, loc, 0);
  Value end =
      arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, start, rows),
                            cIndex(b, loc, k.width - 1));
  Value interior = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, start, zero),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, end, k.sizeN));
  auto body = [&](bool padded) -> Value {
    auto kernel = [&](Value r0, Value cv, int64_t count, Value out) -> Value {
      Value col = arith::AddIOp::create(b, loc, c0, cv);
      Value head = arith::DivUIOp::create(b, loc, col, cIndex(b, loc, k.group));
      Value x0 = arith::AddIOp::create(b, loc, start, r0);
      // Rows kStationaryPrefetch past this block's last input row, into L2
      // (a row block reads its rows across all channel vectors: a row's
      // lines are far apart in time).
      Value ahead =
          count == kStationaryRows
              ? arith::AddIOp::create(
                    b, loc, x0,
                    cIndex(b, loc, count + k.width - 1 + kStationaryPrefetch))
              : Value();
      if (!padded && count == kStationaryRows && k.ftab)
        return stationaryFirRows(b, loc, k, out, x0, r0, col, cv, head, count,
                                 ahead);
      return stationaryRows(b, loc, k, padded, out, x0, r0, col, cv, head,
                            count, ahead);
    };
    return rowBlocks(b, loc, outBlock, rows, kStationaryRows, kernel);
  };
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{outBlock.getType()}, interior,
                                /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  scf::YieldOp::create(b, loc, body(false));
  b.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(b, loc, body(true));
  return ifOp.getResult(0);
}

/// The input-stationary form's operands (channels of one head per vector:
/// C / Hc a multiple of kLanes), all but the batch index: the weight table
/// made of the kernel's weights `weights` ([Hc, K], f32) and x as a buffer.
StationaryOperands stationaryOperands(OpBuilder &b, Location loc,
                                      LightConvOp op, Value weights,
                                      Value sizeN) {
  GenericBuilder g{b, loc};
  Value x = op.getInput();
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  int64_t heads = wType.getDimSize(0), width = wType.getDimSize(1);
  // wtab[h, i, t] = w'[h, t].
  Value wtab = g.generic(
      ValueRange{},
      emptyTensor(b, loc,
                  {b.getIndexAttr(heads), b.getIndexAttr(kStationaryRows),
                   b.getIndexAttr(width)},
                  b.getF32Type()),
      {b.getMultiDimIdentityMap(3)}, parallelIterators(3),
      [&](OpBuilder &nb, Location nl, ValueRange) {
        Value w = tensor::ExtractOp::create(
            nb, nl, weights,
            ValueRange{linalg::IndexOp::create(nb, nl, 0),
                       linalg::IndexOp::create(nb, nl, 2)});
        yieldOne(nb, nl, convertFloat(nb, nl, w, nb.getF32Type()));
      });
  StationaryOperands k;
  if (width >= kMinFirTaps) {
    // ftab[h, a, s]: h0[s] for a <= M, h1[s] for M < a <= 2M, (h0 + h1)[s]
    // after (stationaryFirRows).
    int64_t m2 = kStationaryRows / 2, k0 = evenTaps(width);
    Value ftab = g.generic(
        ValueRange{},
        emptyTensor(b, loc,
                    {b.getIndexAttr(heads), b.getIndexAttr(3 * m2 + 1),
                     b.getIndexAttr(k0)},
                    b.getF32Type()),
        {b.getMultiDimIdentityMap(3)}, parallelIterators(3),
        [&](OpBuilder &nb, Location nl, ValueRange) {
          Value h = linalg::IndexOp::create(nb, nl, 0);
          Value a = linalg::IndexOp::create(nb, nl, 1);
          Value t0 = arith::MulIOp::create(
              nb, nl, linalg::IndexOp::create(nb, nl, 2), cIndex(nb, nl, 2));
          Value t1 = arith::AddIOp::create(nb, nl, t0, cIndex(nb, nl, 1));
          Value odd = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt,
                                            t1, cIndex(nb, nl, width));
          Value t1c =
              arith::SelectOp::create(nb, nl, odd, t1, cIndex(nb, nl, 0));
          Value h0 = convertFloat(
              nb, nl,
              tensor::ExtractOp::create(nb, nl, weights, ValueRange{h, t0}),
              nb.getF32Type());
          Value h1 = arith::SelectOp::create(
              nb, nl, odd,
              convertFloat(nb, nl,
                           tensor::ExtractOp::create(nb, nl, weights,
                                                     ValueRange{h, t1c}),
                           nb.getF32Type()),
              cF32(nb, nl, 0.0));
          Value isP = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule,
                                            a, cIndex(nb, nl, m2));
          Value isQ = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule,
                                            a, cIndex(nb, nl, 2 * m2));
          Value sum = arith::AddFOp::create(nb, nl, h0, h1);
          yieldOne(nb, nl,
                   arith::SelectOp::create(
                       nb, nl, isP, h0,
                       arith::SelectOp::create(nb, nl, isQ, h1, sum)));
        });
    k.ftab = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get({heads, 3 * m2 + 1, k0}, b.getF32Type()), ftab,
        /*read_only=*/true);
  }
  k.width = width;
  k.group = xType.getDimSize(2) / heads;
  k.sizeN = sizeN;
  k.wtab = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get({heads, kStationaryRows, width}, b.getF32Type()),
      wtab,
      /*read_only=*/true);
  k.x = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(xType.getShape(), b.getF32Type()), x,
      /*read_only=*/true);
  return k;
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

  Value weights = lightConvWeights(b, op, b.getF32Type());
  int64_t cBlock = channelBlock(c);
  bool wholeVectors = cBlock % kLanes == 0;
  Value sizeN = toIndexValue(b, loc, xs[1]);
  // Whole kernel heads per vector of channels: the input-stationary form.
  std::optional<StationaryOperands> stationary;
  if (c % kLanes == 0 && (c / heads) % kLanes == 0)
    stationary = stationaryOperands(b, loc, op, weights, sizeN);
  // Whole vectors: wc[v, t, l] = w'[g(v kLanes + l), t], the K weight vectors
  // of each vector of channels contiguous. Otherwise wc[t, c] = w'[g(c), t].
  int64_t group = c / heads;
  SmallVector<OpFoldResult> wcSizes =
      wholeVectors
          ? SmallVector<OpFoldResult>{b.getIndexAttr(c / kLanes),
                                      b.getIndexAttr(width),
                                      b.getIndexAttr(kLanes)}
          : SmallVector<OpFoldResult>{b.getIndexAttr(width), b.getIndexAttr(c)};
  int64_t wcRank = wcSizes.size();
  Value wc;
  if (!stationary)
    wc = g.generic(
        ValueRange{}, emptyTensor(b, loc, wcSizes, b.getF32Type()),
        {b.getMultiDimIdentityMap(wcRank)}, parallelIterators(wcRank),
        [&](OpBuilder &nb, Location nl, ValueRange) {
          Value t, ch;
          if (wholeVectors) {
            t = linalg::IndexOp::create(nb, nl, 1);
            ch = arith::AddIOp::create(
                nb, nl,
                arith::MulIOp::create(nb, nl,
                                      linalg::IndexOp::create(nb, nl, 0),
                                      cIndex(nb, nl, kLanes)),
                linalg::IndexOp::create(nb, nl, 2));
          } else {
            t = linalg::IndexOp::create(nb, nl, 0);
            ch = linalg::IndexOp::create(nb, nl, 1);
          }
          Value gi = arith::DivUIOp::create(nb, nl, ch, cIndex(nb, nl, group));
          Value w =
              tensor::ExtractOp::create(nb, nl, weights, ValueRange{gi, t});
          yieldOne(nb, nl, convertFloat(nb, nl, w, nb.getF32Type()));
        });

  int64_t pad = op.getCausal() ? width - 1 : (width - 1) / 2;
  Value numBlocks =
      arith::CeilDivUIOp::create(b, loc, sizeN, cIndex(b, loc, chunk));
  // Every element of the result is written and init is never read: the
  // forall writes init in place, and attn-return-arguments-in-place makes
  // the entry return that buffer rather than a copy of it.
  Value oBuf, xBuf;
  if (wholeVectors && !stationary) {
    oBuf = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(initType.getShape(), b.getF32Type()), init,
        /*read_only=*/true);
    xBuf = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(xType.getShape(), b.getF32Type()), x,
        /*read_only=*/true);
  }
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
  Value tile;
  if (stationary) {
    stationary->bi = bi;
    tile = stationaryBlock(b, loc, *stationary, outBlock, start, c0, rows);
  } else if (wholeVectors) {
    tile = blockedTapsOfBlock(b, loc, x, wc, outBlock, oBuf, xBuf, bi, n0,
                              start, sizeN, c0, rows, chunk, width);
  } else {
    tile =
        tapGenerics(b, loc, x, wc, outBlock, bi, start, sizeN, c0, rows, width);
  }

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, tile,
                                        forall.getRegionIterArgs()[0],
                                        ArrayRef<OpFoldResult>{bi, n0, c0},
                                        ArrayRef<OpFoldResult>{one, rows, cols},
                                        ArrayRef<OpFoldResult>{one, one, one});
  return forall.getResult(0);
}
