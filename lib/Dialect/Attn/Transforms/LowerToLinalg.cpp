//===- LowerToLinalg.cpp - attn-lower-to-linalg ---------------------------===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace attn {
#define GEN_PASS_DEF_ATTNLOWERTOLINALG
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attn
} // namespace mlir

using namespace mlir;
using namespace mlir::attn;

namespace {
struct AttnLowerToLinalgPass
    : public attn::impl::AttnLowerToLinalgBase<AttnLowerToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    FailureOr<FloatType> parsed =
        parseComputeType(getOperation(), "attn-lower-to-linalg", computeType);
    if (failed(parsed))
      return signalPassFailure();
    FloatType type = *parsed;
    SmallVector<SdpaOp> targets;
    getOperation()->walk([&](SdpaOp op) { targets.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (SdpaOp op : targets) {
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> replacements =
          lowerSdpaToLinalg(rewriter, op, type);
      if (failed(replacements))
        return signalPassFailure();
      rewriter.replaceOp(op, *replacements);
    }
  }
};
} // namespace
