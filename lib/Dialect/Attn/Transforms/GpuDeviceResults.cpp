//===- GpuDeviceResults.cpp - attn-gpu-device-results ---------------------===//
//
// abi=device: the result of an attn.sdpa that a public function returns is
// materialized in the function's outs argument (see GpuPipeline.h).
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace {

struct GpuDeviceResultsPass
    : PassWrapper<GpuDeviceResultsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuDeviceResultsPass)

  StringRef getArgument() const final { return "attn-gpu-device-results"; }
  StringRef getDescription() const final {
    return "Materialize each returned attn.sdpa result of a public function "
           "in its outs operand when that is an argument of the function";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<bufferization::BufferizationDialect>();
  }

  void runOnOperation() override {
    OpBuilder builder(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || func.isPrivate())
        continue;
      func.walk([&](func::ReturnOp ret) {
        builder.setInsertionPoint(ret);
        for (OpOperand &operand : ret->getOpOperands()) {
          auto sdpa = operand.get().getDefiningOp<attn::SdpaOp>();
          if (!sdpa || operand.get() != sdpa.getResult())
            continue;
          auto init = dyn_cast<BlockArgument>(sdpa.getInit());
          if (!init || init.getOwner()->getParentOp() != func ||
              init.getType() != sdpa.getResult().getType())
            continue;
          auto materialize = bufferization::MaterializeInDestinationOp::create(
              builder, ret.getLoc(), sdpa.getResult(), init);
          operand.set(materialize.getResult());
        }
      });
    }
  }
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createGpuDeviceResultsPass() {
  return std::make_unique<GpuDeviceResultsPass>();
}
