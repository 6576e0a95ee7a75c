//===- attn-opt.cpp - mlir-opt with the attn dialect and passes -----------===//
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.h"
#include "attn/Dialect/Attn/Transforms/GpuPipeline.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::attn::registerAttnPassesAndPipelines();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::attn::AttnDialect>();
  mlir::attn::registerDecompositionInterfaces(registry);
  mlir::attn::registerSdpaTilingInterface(registry);
  mlir::attn::registerTransformDialectExtension(registry);
  // The GPU route: the NVVM target (nvvm-attach-target, gpu-module-to-binary)
  // and the LLVM IR translations that serialising a gpu.module needs.
  mlir::attn::registerGpuTargets(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "attn-opt: the attn dialect, its passes and MLIR's\n",
      registry));
}
