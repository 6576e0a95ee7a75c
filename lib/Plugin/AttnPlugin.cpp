//===- AttnPlugin.cpp - The attn dialect and passes as an mlir-opt plugin -===//
//
// A plugin in the form of MLIR's plugin interface, so that an upstream
// mlir-opt built against the same libMLIR.so parses attn IR and runs our
// passes and pipelines:
//
//   mlir-opt --load-dialect-plugin=AttnPlugin.so \
//            --load-pass-plugin=AttnPlugin.so \
//            --pass-pipeline='builtin.module(attn-cpu-pipeline)' in.mlir
//
// The plugin holds no copy of MLIR: it links libMLIR.so and our shared
// libraries, which the loading tool shares, so every TypeID and registry is
// the tool's own.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

using namespace mlir;

/// Adds the attn dialect, the decomposition and tiling models it attaches to
/// its ops, and the transform.attn.* ops.
static void registerAttnDialect(DialectRegistry *registry) {
  registry->insert<attn::AttnDialect>();
  attn::registerDecompositionInterfaces(*registry);
  attn::registerSdpaTilingInterface(*registry);
  attn::registerTransformDialectExtension(*registry);
}

/// The entry point `--load-dialect-plugin` looks up.
extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "Attn", LLVM_VERSION_STRING,
          registerAttnDialect};
}

/// The entry point `--load-pass-plugin` looks up: the attn passes and
/// `attn-cpu-pipeline`.
extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "AttnPasses", LLVM_VERSION_STRING,
          [] { attn::registerAttnPassesAndPipelines(); }};
}
