//===- PrepareTileLoops.cpp - attn-prepare-tile-loops ---------------------===//
//
// Readies the per-tile linalg ops of attn-tile's flash form for LLVM's loop
// and SLP vectorizers: contractions as linalg.generic in a loop order whose
// innermost loop is contiguous, and reassociable float arithmetic.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNPREPARETILELOOPS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;

/// Returns whether `op` is `C[i, j] += A[i, k] * B[k, j]`: loops (i, j, k),
/// parallel, parallel, reduction, with B indexed (k, j) and C (i, j).
static bool isRowMajorContraction(linalg::GenericOp op) {
  if (op.getNumLoops() != 3 || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return false;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators[0] != utils::IteratorType::parallel ||
      iterators[1] != utils::IteratorType::parallel ||
      iterators[2] != utils::IteratorType::reduction)
    return false;
  MLIRContext *context = op.getContext();
  AffineExpr i, j, k;
  bindDims(context, i, j, k);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  return maps[0] == AffineMap::get(3, 0, {i, k}, context) &&
         maps[1] == AffineMap::get(3, 0, {k, j}, context) &&
         maps[2] == AffineMap::get(3, 0, {i, j}, context);
}

/// Adds `reassoc` and `contract` to the fast-math flags of the float arith
/// ops in `op`'s body.
static void allowReassociation(linalg::GenericOp op) {
  op.getBody()->walk([](arith::ArithFastMathInterface fastMath) {
    // Only arith: the flags mean nothing to math.exp2 and the like. Nor to
    // the conversions: llvm.fpext / llvm.fptrunc have no fast-math flags, and
    // arith-to-llvm would leave the attribute on them as an arith attribute
    // that LLVM IR translation rejects.
    if (!isa<arith::ArithDialect>(fastMath->getDialect()) ||
        isa<arith::ExtFOp, arith::TruncFOp>(fastMath.getOperation()))
      return;
    auto flags = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
    if (arith::FastMathFlagsAttr old = fastMath.getFastMathFlagsAttr())
      flags = flags | old.getValue();
    fastMath->setAttr(fastMath.getFastMathAttrName(),
                      arith::FastMathFlagsAttr::get(fastMath->getContext(),
                                                    flags));
  });
}

/// Rewrites the f32 math.exp2 ops of `op`'s body as exp(x ln 2) in MLIR's
/// polynomial approximation, plain arith that vectorizes (a libm call does
/// not); NaN stays NaN. Returns failure when the patterns fail to apply.
static LogicalResult approximateExp2(linalg::GenericOp op) {
  SmallVector<math::Exp2Op> exp2Ops;
  op.getBody()->walk([&](math::Exp2Op exp2) {
    if (exp2.getType().isF32())
      exp2Ops.push_back(exp2);
  });
  if (exp2Ops.empty())
    return success();
  IRRewriter rewriter(op.getContext());
  SmallVector<Operation *> expOps;
  for (math::Exp2Op exp2 : exp2Ops) {
    Location loc = exp2.getLoc();
    rewriter.setInsertionPoint(exp2);
    Value x = exp2.getOperand();
    Value ln2 = arith::ConstantOp::create(
        rewriter, loc, rewriter.getF32FloatAttr(0.693147180559945309f));
    Value scaled = arith::MulFOp::create(rewriter, loc, x, ln2);
    auto exp = math::ExpOp::create(rewriter, loc, scaled);
    Value isNaN = arith::CmpFOp::create(rewriter, loc,
                                        arith::CmpFPredicate::UNO, x, x);
    Value result = arith::SelectOp::create(rewriter, loc, isNaN, x, exp);
    rewriter.replaceOp(exp2, result);
    expOps.push_back(exp);
  }
  RewritePatternSet patterns(op.getContext());
  populateMathPolynomialApproximationPatterns(
      patterns, [](StringRef name) { return name == "exp" || name == "math.exp"; });
  bool changed = false;
  bool allErased = false;
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingOps);
  if (failed(applyOpPatternsGreedily(expOps, std::move(patterns), config,
                                     &changed, &allErased)) ||
      !allErased)
    return failure();
  return success();
}

namespace {
struct AttnPrepareTileLoops
    : public attn::impl::AttnPrepareTileLoopsBase<AttnPrepareTileLoops> {
  void runOnOperation() override {
    // A set: a flash form nested in another forall (sdpa tiled with
    // tile_using_forall first) is inside two foralls.
    llvm::SetVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](scf::ForallOp forall) {
      forall.getBody()->walk([&](linalg::LinalgOp op) { ops.insert(op); });
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic && isa<linalg::MatmulOp>(op.getOperation())) {
        rewriter.setInsertionPoint(op);
        FailureOr<linalg::GenericOp> generalized =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(generalized))
          continue;
        generic = *generalized;
      }
      if (!generic)
        continue;
      if (isRowMajorContraction(generic)) {
        FailureOr<linalg::GenericOp> interchanged =
            linalg::interchangeGenericOp(rewriter, generic, {0, 2, 1});
        if (succeeded(interchanged))
          generic = *interchanged;
      }
      allowReassociation(generic);
      if (failed(approximateExp2(generic))) {
        generic.emitError("attn-prepare-tile-loops: math.exp2 was not "
                          "approximated");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
