//===- FuseLshCluster.cpp - attn-fuse-lsh-cluster -------------------------===//
//
// attn.lsh and attn.cluster for the fused pipeline: the decompositions of
// DecomposeLsh.cpp and DecomposeCluster.cpp with their discrete choices made
// in linear time (FusedSelect.h). The chunk or cluster attention stays an
// attn.sdpa over the gathered rows with the original positions, so attn-tile
// gives it the flash core (causal in Partial tiles only; a causal lsh adds
// its own keys in the combine, a non-causal one scores them by score_mod);
// the rounds or clusters combine by log-sum-exp over O(parts * N * Dv)
// values.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNFUSELSHCLUSTER
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;

namespace {
struct AttnFuseLshClusterPass
    : public attn::impl::AttnFuseLshClusterBase<AttnFuseLshClusterPass> {
  using Base::Base;
  /// The fused lsh carries its chunk buffers through its per-head loop as
  /// bufferization.alloc_tensor ops.
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registry.insert<bufferization::BufferizationDialect>();
  }
  void runOnOperation() override {
    FailureOr<FloatType> parsed =
        parseComputeType(getOperation(), "attn-fuse-lsh-cluster", computeType);
    if (failed(parsed))
      return signalPassFailure();
    SmallVector<Operation *> targets;
    getOperation()->walk([&](Operation *op) {
      if (isa<LshOp, ClusterOp>(op))
        targets.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : targets) {
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> replacements =
          isa<LshOp>(op)
              ? decomposeLsh(rewriter, cast<LshOp>(op), *parsed, /*fused=*/true)
              : decomposeCluster(rewriter, cast<ClusterOp>(op), *parsed,
                                 /*fused=*/true);
      if (failed(replacements))
        return signalPassFailure();
      rewriter.replaceOp(op, *replacements);
    }
  }
};
} // namespace
