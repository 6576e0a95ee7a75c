//===- consumer-opt.cpp - An opt tool of another project using attn -------===//
//
// Registers the attn dialect and passes from the installed AttnMLIR package
// next to the func dialect, and nothing else.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::attn::registerAttnPassesAndPipelines();
  mlir::DialectRegistry registry;
  registry.insert<mlir::func::FuncDialect, mlir::attn::AttnDialect>();
  mlir::attn::registerDecompositionInterfaces(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "consumer-opt: the installed attn dialect\n", registry));
}
