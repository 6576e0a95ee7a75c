//===- attn-lsp-server.cpp - MLIR language server knowing the attn dialect ===//
//
// mlir-lsp-server with the attn dialect registered next to MLIR's own, so
// that editors (the VS Code MLIR extension through `mlir.server_path`) give
// diagnostics, hovers, definitions and completion for .mlir files with attn
// ops. It speaks the Language Server Protocol over stdin and stdout.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Tools/mlir-lsp-server/MlirLspServerMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::attn::AttnDialect>();
  mlir::attn::registerDecompositionInterfaces(registry);
  mlir::attn::registerSdpaTilingInterface(registry);
  mlir::attn::registerTransformDialectExtension(registry);
  return mlir::failed(mlir::MlirLspServerMain(argc, argv, registry)) ? 1 : 0;
}
