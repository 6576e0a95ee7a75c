//===- FoldTensorCast.cpp - Fold tensor.cast into attn ops ----------------===//
#include "attn/Dialect/Attn/IR/AttnCanonicalization.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Rebuilds an attn op on the sources of the `tensor.cast`s that feed it when
/// those casts only erase static information.
struct FoldTensorCastIntoAttnOp
    : public OpInterfaceRewritePattern<AttentionOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(AttentionOpInterface attnOp,
                                PatternRewriter &rewriter) const override {
    Operation *op = attnOp.getOperation();
    SmallVector<Value> newOperands;
    newOperands.reserve(op->getNumOperands());
    bool changed = false;
    for (Value operand : op->getOperands()) {
      auto cast = operand.getDefiningOp<tensor::CastOp>();
      if (cast && tensor::canFoldIntoConsumerOp(cast)) {
        newOperands.push_back(cast.getSource());
        changed = true;
        continue;
      }
      newOperands.push_back(operand);
    }
    if (!changed)
      return failure();

    // The init operand, and so result 0, may become more static.
    unsigned initIndex = 0;
    Value init = attnOp.getInit();
    for (OpOperand &operand : op->getOpOperands())
      if (operand.get() == init)
        initIndex = operand.getOperandNumber();
    Type newResultType = newOperands[initIndex].getType();

    Operation *newOp = rewriter.clone(*op);
    rewriter.modifyOpInPlace(newOp, [&] {
      newOp->setOperands(newOperands);
      newOp->getResult(0).setType(newResultType);
    });

    SmallVector<Value> replacements(newOp->getResults());
    Type oldResultType = op->getResult(0).getType();
    if (newResultType != oldResultType)
      replacements[0] = tensor::CastOp::create(rewriter, op->getLoc(),
                                               oldResultType, replacements[0]);
    rewriter.replaceOp(op, replacements);
    return success();
  }
};
} // namespace

void mlir::attn::populateFoldTensorCastIntoAttnOpsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<FoldTensorCastIntoAttnOp>(patterns.getContext());
}
