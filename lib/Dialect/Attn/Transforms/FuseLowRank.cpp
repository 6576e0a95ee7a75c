//===- FuseLowRank.cpp - fused form of attn.lowrank -----------------------===//
//
// attn.lowrank (docs/Semantics.md §6) as attn-decompose builds it, with each
// projection `out[b, g] = P[g or 0] X[b, g]` ([r, Nk] times [Nk, C], f32)
// as an scf.forall over (batch, KV head) of 2-D contractions over chunks of
// the sequence (so that a chunk of X stays in cache while the r rows of P
// read it), which attn-cpu-microkernels turns into its register-tiled
// kernel. With one projection for keys and values (no value projection)
// both products are one forall, so that each chunk of P, fetched from
// memory, serves the keys' and the values' contraction. The attention over
// the r projected keys is the attn.sdpa of the decomposition, into the outs
// operand: the flash core of attn-tile, in place.
//
// Taken: f32 compute, f32 keys, values and projections.
//
//===----------------------------------------------------------------------===//
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <utility>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

static bool isF32Tensor(Value t) {
  return cast<RankedTensorType>(t.getType()).getElementType().isF32();
}

/// `P[pi, :, n0 : n0 + rows]` ([r, rows], rows Nk floats apart).
static Value projectionChunk(OpBuilder &b, Location loc, HeadOperand p,
                             Value pi, Value n0, Value rows) {
  auto pType = cast<RankedTensorType>(p.tensor.getType());
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  return tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get({pType.getDimSize(1), ShapedType::kDynamic},
                            b.getF32Type()),
      p.tensor, ArrayRef<OpFoldResult>{pi, zero, n0},
      ArrayRef<OpFoldResult>{one, getSizes(b, loc, p.tensor)[1], rows},
      ArrayRef<OpFoldResult>{one, one, one});
}

/// `out[b, g] = P[g or 0] X[b, g]` for each X of `xs` (one shape) per (b, g)
/// in one scf.forall, the reduction over Nk in chunks of `chunk` keys; each
/// chunk of P (rows Nk floats apart, fetched from memory) is read by the
/// contractions of every X one after the other.
static SmallVector<Value> projectChunked(OpBuilder &b, Location loc,
                                         HeadOperand p, ValueRange xs,
                                         int64_t chunk) {
  Value x0 = xs.front();
  SmallVector<OpFoldResult> xSizes = getSizes(b, loc, x0);
  SmallVector<OpFoldResult> ps = getSizes(b, loc, p.tensor);
  int64_t cols = cast<RankedTensorType>(x0.getType()).getDimSize(3);
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  // Each (b, g) iteration zeroes its own slice of the result and accumulates
  // in it, so the results start empty and bufferization makes no copies.
  SmallVector<Value> inits;
  for (size_t i = 0; i < xs.size(); ++i)
    inits.push_back(emptyTensor(b, loc, {xSizes[0], xSizes[1], ps[1], xSizes[3]},
                                b.getF32Type()));
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{xSizes[0], xSizes[1]}, inits,
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value bi = forall.getInductionVars()[0], gi = forall.getInductionVars()[1];
  Value pi = p.shared ? cIndex(b, loc, 0) : gi;
  Value sizeNk = toIndexValue(b, loc, xSizes[2]);
  std::optional<int64_t> staticR = getConstantIntValue(ps[1]);
  auto accType = RankedTensorType::get(
      {staticR ? *staticR : ShapedType::kDynamic, cols}, b.getF32Type());
  Value fzero = cF32(b, loc, 0.0);
  SmallVector<Value> acc0;
  for (size_t i = 0; i < xs.size(); ++i) {
    Value slice = tensor::ExtractSliceOp::create(
        b, loc, accType, forall.getRegionIterArgs()[i],
        ArrayRef<OpFoldResult>{bi, gi, zero, zero},
        ArrayRef<OpFoldResult>{one, one, ps[1], b.getIndexAttr(cols)},
        ArrayRef<OpFoldResult>{one, one, one, one});
    acc0.push_back(linalg::FillOp::create(b, loc, fzero, slice).getResult(0));
  }
  auto loop =
      buildFor(b, loc, cIndex(b, loc, 0), sizeNk, cIndex(b, loc, chunk), acc0,
               [&](Value n0, ValueRange iter) -> SmallVector<Value> {
                 Value rows = chunkRows(b, loc, n0, sizeNk, chunk);
                 Value pc = projectionChunk(b, loc, p, pi, n0, rows);
                 SmallVector<Value> next;
                 for (auto [x, acc] : llvm::zip_equal(xs, iter))
                   next.push_back(contract(
                       b, loc, pc, rows4d(b, loc, x, bi, gi, n0, rows), acc));
                 return next;
               });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  for (size_t i = 0; i < xs.size(); ++i)
    tensor::ParallelInsertSliceOp::create(
        b, loc, loop.getResult(i), forall.getRegionIterArgs()[i],
        ArrayRef<OpFoldResult>{bi, gi, zero, zero},
        ArrayRef<OpFoldResult>{one, one, ps[1], b.getIndexAttr(cols)},
        ArrayRef<OpFoldResult>{one, one, one, one});
  return SmallVector<Value>(forall.getResults());
}

FailureOr<Value> fuse::fuseLowRank(OpBuilder &b, LowRankOp op, int64_t chunk) {
  Value e = op.getKeyProjection(), f = op.getValueProjection();
  if (!isF32Tensor(op.getKey()) || !isF32Tensor(op.getValue()) ||
      !isF32Tensor(e) || (f && !isF32Tensor(f)))
    return failure();
  // Keys in chunks four times the kernelized chunk: the chunk of X (C
  // floats a row) stays in the L2 cache while P's r rows read it.
  int64_t keys = 4 * chunk;
  // One projection for both (no value projection) and keys and values of one
  // type: both products in one forall, from one copy of each chunk of E
  // (the decomposition asks for e k, then for e v).
  Value k = op.getKey(), v = op.getValue();
  bool joint = !f && k.getType() == v.getType();
  Value pendingValues;
  FailureOr<SmallVector<Value>> result = decomposeLowRank(
      b, op, b.getF32Type(),
      [&](OpBuilder &pb, Location pl, HeadOperand p, Value x,
          FloatType) -> Value {
        if (pendingValues && x == v)
          return std::exchange(pendingValues, Value());
        if (!joint || x != k)
          return projectChunked(pb, pl, p, ValueRange{x}, keys).front();
        SmallVector<Value> both =
            projectChunked(pb, pl, p, ValueRange{k, v}, keys);
        pendingValues = both[1];
        return both[0];
      });
  if (failed(result))
    return failure();
  // The attention is the decomposition's attn.sdpa into the outs operand:
  // attn-cpu-pipeline tiles it in place (attn-tile{fresh-destination=false})
  // and attn-return-arguments-in-place returns that buffer, so a call writes
  // no fresh result pages (at N=65536 a 128 MiB result each call).
  return (*result)[0];
}
