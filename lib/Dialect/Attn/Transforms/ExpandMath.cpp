//===- ExpandMath.cpp - attn-expand-math ----------------------------------===//
//
// Rewrites the math ops that neither convert-math-to-llvm nor
// convert-math-to-libm lowers (math.isinf, math.isnormal, math.clampf) into
// arith comparisons and min / max.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNEXPANDMATH
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;

/// A float constant of `type` (a scalar float or a shaped type of floats).
static Value floatConstant(PatternRewriter &rewriter, Location loc, Type type,
                           const APFloat &value) {
  auto elementType = cast<FloatType>(getElementTypeOrSelf(type));
  TypedAttr attr = rewriter.getFloatAttr(elementType, value);
  if (auto shaped = dyn_cast<ShapedType>(type))
    attr = DenseElementsAttr::get(shaped, attr);
  return arith::ConstantOp::create(rewriter, loc, attr);
}

/// The semantics of the float element type of `type`.
static const llvm::fltSemantics &semanticsOf(Type type) {
  return cast<FloatType>(getElementTypeOrSelf(type)).getFloatSemantics();
}

namespace {
/// `math.isinf %x` -> `|x| == +inf`.
struct ExpandIsInf : OpRewritePattern<math::IsInfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::IsInfOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Value abs = math::AbsFOp::create(rewriter, loc, x);
    Value inf = floatConstant(rewriter, loc, x.getType(),
                              APFloat::getInf(semanticsOf(x.getType())));
    rewriter.replaceOpWithNewOp<arith::CmpFOp>(op, arith::CmpFPredicate::OEQ,
                                               abs, inf);
    return success();
  }
};

/// `math.isnormal %x` -> `smallest normal <= |x| < +inf` (ordered: false for
/// NaN).
struct ExpandIsNormal : OpRewritePattern<math::IsNormalOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::IsNormalOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getOperand();
    const llvm::fltSemantics &sem = semanticsOf(x.getType());
    Value abs = math::AbsFOp::create(rewriter, loc, x);
    Value smallest = floatConstant(rewriter, loc, x.getType(),
                                   APFloat::getSmallestNormalized(sem));
    Value inf = floatConstant(rewriter, loc, x.getType(), APFloat::getInf(sem));
    Value notSmall = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::OGE, abs, smallest);
    Value finite = arith::CmpFOp::create(rewriter, loc,
                                         arith::CmpFPredicate::OLT, abs, inf);
    rewriter.replaceOpWithNewOp<arith::AndIOp>(op, notSmall, finite);
    return success();
  }
};

/// `math.clampf %x to [%lo, %hi]` -> `maximumf(minimumf(x, hi), lo)`.
struct ExpandClampF : OpRewritePattern<math::ClampFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::ClampFOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    arith::FastMathFlags flags = op.getFastmath();
    Value atMost = arith::MinimumFOp::create(rewriter, loc, op.getValue(),
                                             op.getMax(), flags);
    rewriter.replaceOpWithNewOp<arith::MaximumFOp>(op, atMost, op.getMin(),
                                                   flags);
    return success();
  }
};

struct AttnExpandMathPass
    : public attn::impl::AttnExpandMathBase<AttnExpandMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandIsInf, ExpandIsNormal, ExpandClampF>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
