//===- FuseVariants.cpp - attn-fuse-variants ------------------------------===//
//
// The pass that puts the fused forms of attn.kernelized, attn.lowrank and
// attn.lightconv in place of the ops (the fused pipeline runs it before
// attn-decompose), and the builders those forms share.
//
//===----------------------------------------------------------------------===//
#include "FuseVariants.h"

#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNFUSEVARIANTS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::fuse;

Value fuse::cIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value fuse::cF32(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

scf::ForOp
fuse::buildFor(OpBuilder &b, Location loc, Value lb, Value ub, Value step,
               ValueRange init,
               function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  return scf::ForOp::create(
      b, loc, lb, ub, step, init,
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange iter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> results = body(iv, iter);
        scf::YieldOp::create(b, nl, results);
      });
}

Value fuse::chunkRows(OpBuilder &b, Location loc, Value start, Value size,
                      int64_t step) {
  Value left = arith::SubIOp::create(b, loc, size, start);
  return arith::MinUIOp::create(b, loc, left, cIndex(b, loc, step));
}

Value fuse::rows4d(OpBuilder &b, Location loc, Value t, Value i0, Value i1,
                   OpFoldResult row0, OpFoldResult rows) {
  auto type = cast<RankedTensorType>(t.getType());
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  int64_t cols = type.getDimSize(3);
  SmallVector<OpFoldResult> offsets = {i0, i1, row0, zero};
  SmallVector<OpFoldResult> sizes = {one, one, rows, b.getIndexAttr(cols)};
  SmallVector<OpFoldResult> strides(4, one);
  std::optional<int64_t> staticRows = getConstantIntValue(rows);
  auto resultType = RankedTensorType::get(
      {staticRows ? *staticRows : ShapedType::kDynamic, cols},
      type.getElementType());
  return tensor::ExtractSliceOp::create(b, loc, resultType, t, offsets, sizes,
                                        strides);
}

Value fuse::slice2d(OpBuilder &b, Location loc, Value t, OpFoldResult row0,
                    OpFoldResult rows, OpFoldResult col0, OpFoldResult cols) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, t);
  OpFoldResult one = b.getIndexAttr(1);
  if (!col0)
    col0 = b.getIndexAttr(0);
  if (!cols)
    cols = sizes[1];
  return tensor::ExtractSliceOp::create(
      b, loc, t, ArrayRef<OpFoldResult>{row0, col0},
      ArrayRef<OpFoldResult>{rows, cols}, ArrayRef<OpFoldResult>{one, one});
}

Value fuse::insert2d(OpBuilder &b, Location loc, Value src, Value dest,
                     OpFoldResult row0, OpFoldResult col0) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, src);
  OpFoldResult one = b.getIndexAttr(1);
  if (!col0)
    col0 = b.getIndexAttr(0);
  return tensor::InsertSliceOp::create(b, loc, src, dest,
                                       ArrayRef<OpFoldResult>{row0, col0},
                                       sizes, ArrayRef<OpFoldResult>{one, one});
}

Value fuse::filled2d(OpBuilder &b, Location loc, OpFoldResult rows,
                     OpFoldResult cols, double value) {
  return filledTensor(b, loc, {rows, cols}, b.getF32Type(), value);
}

Value fuse::contract(OpBuilder &b, Location loc, Value a, Value bm, Value c,
                     bool transposeA, bool transposeB, Value live) {
  GenericBuilder g{b, loc};
  // Loops (i, j, k).
  SmallVector<Value> inputs = {a, bm};
  SmallVector<AffineMap> maps = {transposeA ? g.dims(3, {2, 0})
                                            : g.dims(3, {0, 2}),
                                 transposeB ? g.dims(3, {1, 2})
                                            : g.dims(3, {2, 1})};
  if (live) {
    inputs.push_back(live);
    maps.push_back(g.dims(3, {0, 2}));
  }
  maps.push_back(g.dims(3, {0, 1}));
  return g.generic(inputs, c, maps, g.iterators(3, {2}),
                   [&](OpBuilder &nb, Location nl, ValueRange x) {
                     Value prod = arith::MulFOp::create(nb, nl, x[0], x[1]);
                     if (live)
                       prod = arith::SelectOp::create(nb, nl, x[2], prod,
                                                      cF32(nb, nl, 0.0));
                     yieldOne(nb, nl,
                              arith::AddFOp::create(nb, nl, x.back(), prod));
                   });
}

Value fuse::selectMax(OpBuilder &b, Location loc, Value acc, Value x) {
  Value greater =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, acc);
  return arith::SelectOp::create(b, loc, greater, x, acc);
}

Value fuse::expViaExp2(OpBuilder &b, Location loc, Value x) {
  Value log2e = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(x.getType(), M_LOG2E));
  return math::Exp2Op::create(b, loc,
                              arith::MulFOp::create(b, loc, x, log2e));
}

/// Whether an operand has a dim of static size 0: MLIR's tensor.extract_slice
/// verifier rejects the static offset 0 into such a dim even for an empty
/// slice, so those ops (nothing to compute) keep the reference decomposition.
static bool hasEmptyStaticDim(Operation *op) {
  return llvm::any_of(op->getOperandTypes(), [](Type t) {
    auto type = dyn_cast<RankedTensorType>(t);
    return type && llvm::is_contained(type.getShape(), 0);
  });
}

namespace {
struct AttnFuseVariantsPass
    : public attn::impl::AttnFuseVariantsBase<AttnFuseVariantsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (chunk < 1) {
      getOperation()->emitError()
          << "attn-fuse-variants: chunk must be at least 1, but got "
          << int64_t(chunk);
      return signalPassFailure();
    }
    SmallVector<Operation *> targets;
    getOperation()->walk([&](Operation *op) {
      if (isa<KernelizedOp, LowRankOp, LightConvOp, PkmOp>(op))
        targets.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : targets) {
      if (hasEmptyStaticDim(op))
        continue;
      rewriter.setInsertionPoint(op);
      FailureOr<Value> fused =
          TypeSwitch<Operation *, FailureOr<Value>>(op)
              .Case([&](KernelizedOp k) {
                return fuseKernelized(rewriter, k, chunk);
              })
              .Case([&](LowRankOp l) { return fuseLowRank(rewriter, l, chunk); })
              .Case([&](PkmOp p) { return fusePkm(rewriter, p, chunk); })
              .Case([&](LightConvOp l) {
                return fuseLightConv(rewriter, l, chunk);
              })
              .Default([](Operation *) { return failure(); });
      if (succeeded(fused))
        rewriter.replaceOp(op, *fused);
    }
  }
};
} // namespace
