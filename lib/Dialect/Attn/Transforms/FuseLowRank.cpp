//===- FuseLowRank.cpp - fused form of attn.lowrank -----------------------===//
//
// attn.lowrank (docs/Semantics.md §6) as attn-decompose builds it, with each
// projection `out[b, g] = P[g or 0] X[b, g]` ([r, Nk] times [Nk, C], f32)
// as an scf.forall over (batch, KV head) of 2-D contractions over chunks of
// the sequence (so that a chunk of X stays in cache while the r rows of P
// read it), which attn-cpu-microkernels turns into its register-tiled
// kernel. The attention over the r projected keys (few: no online softmax
// needed) is, with `ek` transposed once per (batch, KV head) to [D, r], an
// scf.forall over (batch, head, chunk of T queries) of
//
//   S = Qc EK^T [T, r];  m = rowmax(scale S);  P = exp2(log2(e) (scale S - m))
//   o = (P FV) / rowsum(P)
//
// two plain row-major contractions (the micro-kernels, no per-tile packing)
// and row-vectorized element-wise generics. A row whose scaled scores are
// all -inf gives 0 / 0 (NaN), as the decomposition's attn.sdpa of a row with
// non-finite scores leaves it unspecified.
//
// Taken: f32 compute, f32 queries, keys, values and projections, static D,
// Dv and r (otherwise the attention is the decomposition's attn.sdpa: the
// flash core of attn-tile).
//
//===----------------------------------------------------------------------===//
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

static bool isF32Tensor(Value t) {
  return cast<RankedTensorType>(t.getType()).getElementType().isF32();
}

/// `out[b, g] = P[g or 0] X[b, g]` per (b, g) in an scf.forall, the
/// reduction over Nk in chunks of `chunk` keys.
static Value projectChunked(OpBuilder &b, Location loc, HeadOperand p, Value x,
                            int64_t chunk) {
  SmallVector<OpFoldResult> xs = getSizes(b, loc, x);
  SmallVector<OpFoldResult> ps = getSizes(b, loc, p.tensor);
  int64_t cols = cast<RankedTensorType>(x.getType()).getDimSize(3);
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  Value init =
      filledTensor(b, loc, {xs[0], xs[1], ps[1], xs[3]}, b.getF32Type(), 0.0);
  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{xs[0], xs[1]},
                                      ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bi = forall.getInductionVars()[0], gi = forall.getInductionVars()[1];
  Value pi = p.shared ? cIndex(b, loc, 0) : gi;
  Value sizeNk = toIndexValue(b, loc, xs[2]);
  auto pType = cast<RankedTensorType>(p.tensor.getType());
  Value acc0 = filled2d(b, loc, ps[1], b.getIndexAttr(cols), 0.0);
  auto loop = buildFor(
      b, loc, cIndex(b, loc, 0), sizeNk, cIndex(b, loc, chunk),
      ValueRange{acc0}, [&](Value n0, ValueRange iter) -> SmallVector<Value> {
        Value rows = chunkRows(b, loc, n0, sizeNk, chunk);
        Value pc = tensor::ExtractSliceOp::create(
            b, loc,
            RankedTensorType::get({pType.getDimSize(1), ShapedType::kDynamic},
                                  b.getF32Type()),
            p.tensor, ArrayRef<OpFoldResult>{pi, zero, n0},
            ArrayRef<OpFoldResult>{one, ps[1], rows},
            ArrayRef<OpFoldResult>{one, one, one});
        Value xc = rows4d(b, loc, x, bi, gi, n0, rows);
        return {contract(b, loc, pc, xc, iter[0])};
      });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(
      b, loc, loop.getResult(0), forall.getRegionIterArgs()[0],
      ArrayRef<OpFoldResult>{bi, gi, zero, zero},
      ArrayRef<OpFoldResult>{one, one, ps[1], b.getIndexAttr(cols)},
      ArrayRef<OpFoldResult>{one, one, one, one});
  return forall.getResult(0);
}

/// softmax(scale q ek^T) fv of `sdpa` (q [B, H, N, D], ek [B, Hkv, r, D],
/// fv [B, Hkv, r, Dv], all f32) into its init, per (batch, head, chunk of
/// `chunk` queries); null when a dim it needs static is not.
static Value attendChunked(OpBuilder &b, Location loc, SdpaOp sdpa,
                           int64_t chunk) {
  Value q = sdpa.getQuery(), ek = sdpa.getKey(), fv = sdpa.getValue();
  Value init = sdpa.getInit();
  auto ekType = cast<RankedTensorType>(ek.getType());
  auto fvType = cast<RankedTensorType>(fv.getType());
  int64_t r = ekType.getDimSize(2), d = ekType.getDimSize(3),
          dv = fvType.getDimSize(3);
  if (ShapedType::isDynamic(r) || ShapedType::isDynamic(d) ||
      ShapedType::isDynamic(dv) || !isF32Tensor(q) || !isF32Tensor(init) ||
      !sdpa.getScaleAttr())
    return {};
  GenericBuilder g{b, loc};
  double scale = sdpa.getScaleAttr().getValueAsDouble();
  SmallVector<OpFoldResult> qs = getSizes(b, loc, q), ks = getSizes(b, loc, ek);
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  // ek^T [B, Hkv, D, r], once.
  Value ekT = g.generic(
      ValueRange{ek},
      emptyTensor(b, loc, {ks[0], ks[1], b.getIndexAttr(d), b.getIndexAttr(r)},
                  b.getF32Type()),
      {g.dims(4, {0, 1, 3, 2}), g.dims(4, {0, 1, 2, 3})}, parallelIterators(4),
      [&](OpBuilder &nb, Location nl, ValueRange a) { yieldOne(nb, nl, a[0]); });

  Value group = arith::DivUIOp::create(b, loc, toIndexValue(b, loc, qs[1]),
                                       toIndexValue(b, loc, ks[1]));
  OpBuilder::InsertionGuard guard(b);
  RowChunks chunks =
      forEachRowChunk(b, loc, qs[0], qs[1], qs[2], init, chunk);
  scf::ForallOp forall = chunks.forall;
  Value bi = chunks.batch, hi = chunks.head, t0 = chunks.t0, rows = chunks.rows;
  Value gi = arith::DivUIOp::create(b, loc, hi, group);
  Value qc = rows4d(b, loc, q, bi, hi, t0, rows);
  Value ekc = rows4d(b, loc, ekT, bi, gi, zero, b.getIndexAttr(d));
  Value fvc = rows4d(b, loc, fv, bi, gi, zero, b.getIndexAttr(r));
  OpFoldResult rSize = b.getIndexAttr(r), dvSize = b.getIndexAttr(dv);
  Value s = contract(b, loc, qc, ekc, filled2d(b, loc, rows, rSize, 0.0));
  // The scaled scores in log2 units: c s, c = scale log2(e).
  double c = scale * M_LOG2E;
  AffineMap tile = g.dims(2, {0, 1}), row = g.dims(2, {0});
  Value m = g.generic(
      ValueRange{s},
      filledTensor(b, loc, {rows}, b.getF32Type(),
                   -std::numeric_limits<double>::infinity()),
      {tile, row}, g.iterators(2, {1}),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value x = arith::MulFOp::create(nb, nl, a[0], cF32(nb, nl, c));
        yieldOne(nb, nl, selectMax(nb, nl, a[1], x));
      });
  Value p = g.generic(
      ValueRange{m}, s, {row, tile}, parallelIterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value x = arith::MulFOp::create(nb, nl, a[1], cF32(nb, nl, c));
        Value shift = softmaxShift(nb, nl, a[0]);
        yieldOne(nb, nl,
                 math::Exp2Op::create(nb, nl,
                                      arith::SubFOp::create(nb, nl, x, shift)));
      });
  Value l = g.generic(ValueRange{p},
                      filledTensor(b, loc, {rows}, b.getF32Type(), 0.0),
                      {tile, row}, g.iterators(2, {1}),
                      [&](OpBuilder &nb, Location nl, ValueRange a) {
                        yieldOne(nb, nl,
                                 arith::AddFOp::create(nb, nl, a[1], a[0]));
                      });
  Value num = contract(b, loc, p, fvc, filled2d(b, loc, rows, dvSize, 0.0));
  Value o = g.generic(ValueRange{l}, num, {row, tile}, parallelIterators(2),
                      [&](OpBuilder &nb, Location nl, ValueRange a) {
                        yieldOne(nb, nl,
                                 arith::DivFOp::create(nb, nl, a[1], a[0]));
                      });
  insertRows4d(b, loc, forall, o, bi, hi, t0, rows);
  return forall.getResult(0);
}

FailureOr<Value> fuse::fuseLowRank(OpBuilder &b, LowRankOp op, int64_t chunk) {
  Value e = op.getKeyProjection(), f = op.getValueProjection();
  if (!isF32Tensor(op.getKey()) || !isF32Tensor(op.getValue()) ||
      !isF32Tensor(e) || (f && !isF32Tensor(f)))
    return failure();
  // Keys in chunks four times the kernelized chunk: the chunk of X (C
  // floats a row) stays in the L2 cache while P's r rows read it.
  int64_t keys = 4 * chunk;
  FailureOr<SmallVector<Value>> result = decomposeLowRank(
      b, op, b.getF32Type(),
      [&](OpBuilder &pb, Location pl, HeadOperand p, Value x, FloatType) {
        return projectChunked(pb, pl, p, x, keys);
      });
  if (failed(result))
    return failure();
  // The decomposition's attention (attn.sdpa over the projected keys, f32
  // result: no conversion after it) as the chunked softmax above.
  auto sdpa = (*result)[0].getDefiningOp<SdpaOp>();
  if (!sdpa)
    return (*result)[0];
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(sdpa);
  Value attended = attendChunked(b, sdpa.getLoc(), sdpa, chunk);
  if (!attended)
    return (*result)[0];
  sdpa->replaceAllUsesWith(ValueRange{attended});
  sdpa->erase();
  return attended;
}
