//===- Dialects.cpp - C API of the attn dialect ---------------------------===//

#include "attn-c/Dialects.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

#include <iterator>

using namespace mlir;

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Attn, attn, mlir::attn::AttnDialect)

/// The translations to LLVM IR of what attn-cpu-pipeline leaves: builtin,
/// llvm and, with mode=fused, omp.
static void registerLLVMTranslations(DialectRegistry &registry) {
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
}

void attnRegisterAllDialects(MlirDialectRegistry registry) {
  DialectRegistry &r = *unwrap(registry);
  registerAllDialects(r);
  registerAllExtensions(r);
  r.insert<attn::AttnDialect>();
  attn::registerDecompositionInterfaces(r);
  attn::registerSdpaTilingInterface(r);
  attn::registerTransformDialectExtension(r);
  registerLLVMTranslations(r);
}

const MlirStringRef *attnCpuRuntimeLibraries(int *count) {
  static const MlirStringRef libraries[] = {
      mlirStringRefCreateFromCString(ATTN_LIBOMP),
      mlirStringRefCreateFromCString(ATTN_C_RUNNER_UTILS)};
  *count = static_cast<int>(std::size(libraries));
  return libraries;
}

void attnRegisterPasses(void) {
  static bool registered = [] {
    attn::registerAttnPassesAndPipelines();
    return true;
  }();
  (void)registered;
}

MlirLogicalResult attnRunCpuPipeline(MlirModule module, MlirStringRef options) {
  ModuleOp moduleOp = unwrap(module);
  StringRef optionsStr = unwrap(options);
  attn::CpuPipelineOptions pipelineOptions;
  if (failed(pipelineOptions.parseFromString(optionsStr))) {
    emitError(moduleOp.getLoc())
        << "attn-cpu-pipeline: cannot parse the options '" << optionsStr
        << "' (allowed: mode, compute-type, q-tile, kv-tile)";
    return mlirLogicalResultFailure();
  }
  PassManager pm(moduleOp->getContext());
  if (failed(attn::buildCpuPipeline(pm, pipelineOptions,
                                    [&](const Twine &message) {
                                      emitError(moduleOp.getLoc()) << message;
                                      return failure();
                                    })))
    return mlirLogicalResultFailure();
  return wrap(pm.run(moduleOp));
}

MlirLogicalResult attnTranslateToLLVMIR(MlirModule module,
                                        MlirStringCallback callback,
                                        void *userData) {
  ModuleOp moduleOp = unwrap(module);
  // For contexts not made from attnRegisterAllDialects.
  DialectRegistry registry;
  registerLLVMTranslations(registry);
  moduleOp->getContext()->appendDialectRegistry(registry);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(moduleOp, llvmContext);
  if (!llvmModule)
    return mlirLogicalResultFailure();
  std::string text;
  llvm::raw_string_ostream os(text);
  llvmModule->print(os, /*AAW=*/nullptr);
  callback(mlirStringRefCreate(text.data(), text.size()), userData);
  return mlirLogicalResultSuccess();
}

MlirExecutionEngine attnCompileForCpu(MlirModule module, MlirStringRef options,
                                      int optLevel) {
  if (optLevel < 0 || optLevel > 3) {
    emitError(unwrap(module).getLoc())
        << "attnCompileForCpu: optLevel must be 0 to 3, but got " << optLevel;
    return MlirExecutionEngine{nullptr};
  }
  if (mlirLogicalResultIsFailure(attnRunCpuPipeline(module, options)))
    return MlirExecutionEngine{nullptr};
  int numLibraries = 0;
  const MlirStringRef *libraries = attnCpuRuntimeLibraries(&numLibraries);
  MlirExecutionEngine engine = mlirExecutionEngineCreate(
      module, optLevel, numLibraries, libraries, /*enableObjectDump=*/false,
      /*enablePIC=*/false);
  if (mlirExecutionEngineIsNull(engine)) {
    emitError(unwrap(module).getLoc())
        << "attnCompileForCpu: the execution engine could not compile the "
           "lowered module";
    return engine;
  }
  mlirExecutionEngineInitialize(engine);
  return engine;
}
