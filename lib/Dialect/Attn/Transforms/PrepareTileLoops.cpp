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
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/TypeUtilities.h"

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

/// 2^x for f32 `x` (a scalar or a vector) in plain arith that vectorizes (a
/// libm call does not): x clamped to [-126, 128], n = roundeven(x), f = x - n
/// in [-1/2, 1/2], 2 * 2^f by the degree-6 Taylor polynomial of 2^f times 2
/// (relative error below 1.3e-7), times 2^(n - 1) made in the exponent bits
/// (so that 2^x just below 2^128 does not overflow). n = -126 gives the bits
/// of +0: 2^x is exactly 0 at or below -126 (-inf included: a dead pair's
/// weight; finite values there are below 2.4e-38, the f32 normal range's
/// edge); x >= 128 gives +inf; NaN stays NaN. About 18 vector instructions,
/// against about 30 for exp(x ln 2) in MLIR's approximation, which reduces
/// its argument by ln 2 again.
static Value buildExp2(OpBuilder &b, Location loc, Value x) {
  Type type = x.getType();
  auto constant = [&](double value) -> Value {
    TypedAttr attr = b.getF32FloatAttr(static_cast<float>(value));
    if (auto shaped = dyn_cast<ShapedType>(type))
      attr = DenseElementsAttr::get(shaped, attr);
    return arith::ConstantOp::create(b, loc, attr);
  };
  auto select = [&](arith::CmpFPredicate predicate, Value lhs, Value rhs,
                    Value ifTrue, Value ifFalse) -> Value {
    Value cond = arith::CmpFOp::create(b, loc, predicate, lhs, rhs);
    return arith::SelectOp::create(b, loc, cond, ifTrue, ifFalse);
  };
  Value lo = constant(-126.0), hi = constant(128.0);
  // Compare-and-select clamps (arith.maximumf's NaN rules expand to several
  // instructions); a NaN fails both compares and is put back at the end.
  Value clamped = select(arith::CmpFPredicate::OLT, x, lo, lo, x);
  clamped = select(arith::CmpFPredicate::OGT, clamped, hi, hi, clamped);
  Value n = math::RoundEvenOp::create(b, loc, clamped);
  Value f = arith::SubFOp::create(b, loc, clamped, n);
  // 2 ln(2)^k / k!, k = 6 .. 0.
  static const double kCoefficients[] = {
      1.5403530393381609e-4, 1.3333558146428443e-3, 9.6181291076284772e-3,
      5.5504108664821580e-2, 2.4022650695910071e-1, 6.9314718055994531e-1,
      1.0};
  Value p = constant(2 * kCoefficients[0]);
  for (double c : ArrayRef<double>(kCoefficients).drop_front())
    p = math::FmaOp::create(b, loc, p, f, constant(2 * c));
  // 2^(n - 1): (n + 126) << 23 as the bits of an f32.
  Type intType = b.getI32Type();
  Value bias = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(126));
  Value shift = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(23));
  if (auto shaped = dyn_cast<ShapedType>(type)) {
    intType = shaped.clone(intType);
    bias = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(cast<ShapedType>(intType),
                                       b.getI32IntegerAttr(126)));
    shift = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(cast<ShapedType>(intType),
                                       b.getI32IntegerAttr(23)));
  }
  Value bits = arith::ShLIOp::create(
      b, loc,
      arith::AddIOp::create(b, loc, arith::FPToSIOp::create(b, loc, intType, n),
                            bias),
      shift);
  Value result = arith::MulFOp::create(
      b, loc, p, arith::BitcastOp::create(b, loc, type, bits));
  return select(arith::CmpFPredicate::UNO, x, x, x, result);
}

/// Rewrites the f32 math.exp2 ops of `op`'s body with buildExp2.
static void approximateExp2(linalg::GenericOp op) {
  SmallVector<math::Exp2Op> exp2Ops;
  op.getBody()->walk([&](math::Exp2Op exp2) {
    if (getElementTypeOrSelf(exp2.getType()).isF32())
      exp2Ops.push_back(exp2);
  });
  IRRewriter rewriter(op.getContext());
  for (math::Exp2Op exp2 : exp2Ops) {
    rewriter.setInsertionPoint(exp2);
    rewriter.replaceOp(exp2,
                       buildExp2(rewriter, exp2.getLoc(), exp2.getOperand()));
  }
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
      approximateExp2(generic);
    }
  }
};
} // namespace
