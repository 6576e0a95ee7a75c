//===- Decompose.cpp - attn-decompose and the AggregatedOpInterface models ===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNDECOMPOSE
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;

namespace {
/// `linalg::AggregatedOpInterface` for a non-core op, forwarding to its
/// decomposition function.
template <typename OpTy, FailureOr<SmallVector<Value>> (*Fn)(OpBuilder &, OpTy)>
struct DecompositionModel
    : public linalg::AggregatedOpInterface::ExternalModel<
          DecompositionModel<OpTy, Fn>, OpTy> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    return Fn(b, cast<OpTy>(op));
  }
};

struct AttnDecomposePass
    : public attn::impl::AttnDecomposeBase<AttnDecomposePass> {
  void runOnOperation() override {
    SmallVector<Operation *> targets;
    getOperation()->walk([&](Operation *op) {
      if (isa<AttnDialect>(op->getDialect()) &&
          isa<linalg::AggregatedOpInterface>(op))
        targets.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : targets) {
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> replacements =
          cast<linalg::AggregatedOpInterface>(op).decomposeOperation(rewriter);
      if (failed(replacements))
        return signalPassFailure();
      rewriter.replaceOp(op, *replacements);
    }
  }
};
} // namespace

void mlir::attn::registerDecompositionInterfaces(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    LshOp::attachInterface<DecompositionModel<LshOp, decomposeLsh>>(*ctx);
    ClusterOp::attachInterface<DecompositionModel<ClusterOp, decomposeCluster>>(
        *ctx);
    LowRankOp::attachInterface<
        DecompositionModel<LowRankOp, decomposeLowRank>>(*ctx);
    KernelizedOp::attachInterface<
        DecompositionModel<KernelizedOp, decomposeKernelized>>(*ctx);
    PkmOp::attachInterface<DecompositionModel<PkmOp, decomposePkm>>(*ctx);
    LightConvOp::attachInterface<
        DecompositionModel<LightConvOp, decomposeLightConv>>(*ctx);
  });
}
