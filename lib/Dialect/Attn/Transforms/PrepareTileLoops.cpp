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
#include "mlir/Dialect/SCF/IR/SCF.h"

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
    // Only arith: the flags mean nothing to math.exp2 and the like.
    if (!isa<arith::ArithDialect>(fastMath->getDialect()))
      return;
    auto flags = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
    if (arith::FastMathFlagsAttr old = fastMath.getFastMathFlagsAttr())
      flags = flags | old.getValue();
    fastMath->setAttr(fastMath.getFastMathAttrName(),
                      arith::FastMathFlagsAttr::get(fastMath->getContext(),
                                                    flags));
  });
}

namespace {
struct AttnPrepareTileLoops
    : public attn::impl::AttnPrepareTileLoopsBase<AttnPrepareTileLoops> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](scf::ForallOp forall) {
      forall.getBody()->walk(
          [&](linalg::LinalgOp op) { ops.push_back(op); });
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
    }
  }
};
} // namespace
