//===- Decompose.cpp - attn-decompose and the AggregatedOpInterface models ===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

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
/// decomposition function in f32.
template <typename OpTy>
struct DecompositionModel : public linalg::AggregatedOpInterface::ExternalModel<
                                DecompositionModel<OpTy>, OpTy> {
  FailureOr<SmallVector<Value>> decomposeOperation(Operation *op,
                                                   OpBuilder &b) const {
    return decomposeAttnOp(b, op, b.getF32Type());
  }
};

struct AttnDecomposePass
    : public attn::impl::AttnDecomposeBase<AttnDecomposePass> {
  using Base::Base;
  void runOnOperation() override {
    FailureOr<FloatType> parsed =
        parseComputeType(getOperation(), "attn-decompose", computeType);
    if (failed(parsed))
      return signalPassFailure();
    FloatType type = *parsed;
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
          decomposeAttnOp(rewriter, op, type);
      if (failed(replacements))
        return signalPassFailure();
      rewriter.replaceOp(op, *replacements);
    }
  }
};
} // namespace

FailureOr<SmallVector<Value>>
mlir::attn::decomposeAttnOp(OpBuilder &b, Operation *op,
                            FloatType computeType) {
  return TypeSwitch<Operation *, FailureOr<SmallVector<Value>>>(op)
      .Case([&](LshOp lsh) { return decomposeLsh(b, lsh, computeType); })
      .Case([&](ClusterOp cluster) {
        return decomposeCluster(b, cluster, computeType);
      })
      .Case([&](LowRankOp lowrank) {
        return decomposeLowRank(b, lowrank, computeType);
      })
      .Case([&](KernelizedOp kernelized) {
        return decomposeKernelized(b, kernelized, computeType);
      })
      .Case([&](PkmOp pkm) { return decomposePkm(b, pkm, computeType); })
      .Case([&](LightConvOp lightconv) {
        return decomposeLightConv(b, lightconv, computeType);
      })
      .Default([](Operation *other) -> FailureOr<SmallVector<Value>> {
        return other->emitOpError("has no decomposition");
      });
}

void mlir::attn::registerDecompositionInterfaces(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    LshOp::attachInterface<DecompositionModel<LshOp>>(*ctx);
    ClusterOp::attachInterface<DecompositionModel<ClusterOp>>(*ctx);
    LowRankOp::attachInterface<DecompositionModel<LowRankOp>>(*ctx);
    KernelizedOp::attachInterface<DecompositionModel<KernelizedOp>>(*ctx);
    PkmOp::attachInterface<DecompositionModel<PkmOp>>(*ctx);
    LightConvOp::attachInterface<DecompositionModel<LightConvOp>>(*ctx);
  });
}
