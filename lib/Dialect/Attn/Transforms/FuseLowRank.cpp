//===- FuseLowRank.cpp - fused form of attn.lowrank -----------------------===//
//
// attn.lowrank (docs/Semantics.md §6) as attn-decompose builds it, with each
// projection `out[b, g] = P[g or 0] X[b, g]` ([r, Nk] times [Nk, C], f32)
// as an scf.forall over (batch, KV head) of 2-D contractions over chunks of
// the sequence (so that a chunk of X stays in cache while the r rows of P
// read it), which attn-cpu-microkernels turns into its register-tiled
// kernel. The attention over the r projected keys is the attn.sdpa of the
// decomposition: the flash core of attn-tile.
//
// Taken: f32 compute, f32 keys, values and projections.
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
  return (*result)[0];
}
