//===- GpuCheckHostCode.cpp - attn-gpu-check-host-code --------------------===//
//
// After the general path has mapped its loops to gpu.launch, every buffer
// lives on the device; host code that still reads or writes one would fault
// at run time. This pass turns that into a compile-time error.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace {

/// Returns whether `buffer` is host memory: a memref.alloca, or a view of
/// one.
bool isHostBuffer(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    if (isa<memref::AllocaOp>(def))
      return true;
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return false;
    buffer = view.getViewSource();
  }
  return false;
}

struct GpuCheckHostCodePass
    : PassWrapper<GpuCheckHostCodePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuCheckHostCodePass)

  StringRef getArgument() const final { return "attn-gpu-check-host-code"; }
  StringRef getDescription() const final {
    return "Fail on host code (outside gpu.launch) that reads or writes a "
           "device buffer";
  }

  void runOnOperation() override {
    bool failed = false;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp, gpu::GPUModuleOp>(op))
        return WalkResult::skip();
      Value buffer;
      if (auto load = dyn_cast<memref::LoadOp>(op))
        buffer = load.getMemRef();
      else if (auto store = dyn_cast<memref::StoreOp>(op))
        buffer = store.getMemRef();
      else if (isa<linalg::LinalgOp, scf::ParallelOp, vector::TransferReadOp,
                   vector::TransferWriteOp, memref::CopyOp>(op)) {
        op->emitError("attn-gpu-pipeline: this op was not mapped to a GPU "
                      "kernel and would run on the host over device buffers "
                      "(the general path maps linalg ops on buffers through "
                      "scf.parallel to gpu.launch)");
        failed = true;
        return WalkResult::advance();
      }
      if (buffer && !isHostBuffer(buffer)) {
        op->emitError("attn-gpu-pipeline: host code outside gpu.launch "
                      "accesses a device buffer");
        failed = true;
      }
      return WalkResult::advance();
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::attn::createGpuCheckHostCodePass() {
  return std::make_unique<GpuCheckHostCodePass>();
}
