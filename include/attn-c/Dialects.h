/*===-- attn-c/Dialects.h - C API of the attn dialect -------------*- C -*-===*\
|*                                                                            *|
|* The attn dialect, its passes and attn-cpu-pipeline for C programs and for  *|
|* bindings in other languages, next to MLIR's own C API (mlir-c/).           *|
|* libAttnCAPI.so carries MLIR's core C API (mlir-c/IR.h, mlir-c/Pass.h,      *|
|* mlir-c/Diagnostics.h) as well, so a C program links only that library.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTN_C_DIALECTS_H
#define ATTN_C_DIALECTS_H

#include "mlir-c/ExecutionEngine.h"
#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The attn dialect: mlirGetDialectHandle__attn__().
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Attn, attn);

/// Adds to `registry` the attn dialect, the decompositions it attaches to its
/// non-core ops, MLIR's dialects and extensions (bufferization and LLVM
/// conversion models among them) that attn-cpu-pipeline lowers through, and
/// the translations to LLVM IR of what it leaves (for attnTranslateToLLVMIR
/// and mlirExecutionEngineCreate).
MLIR_CAPI_EXPORTED void attnRegisterAllDialects(MlirDialectRegistry registry);

/// Registers the attn passes and attn-cpu-pipeline with MLIR's pass
/// registry, so that mlirParsePassPipeline knows their names
/// ("builtin.module(attn-decompose)"). Idempotent.
MLIR_CAPI_EXPORTED void attnRegisterPasses(void);

/// Runs attn-cpu-pipeline on `module`: attn IR on tensors down to the LLVM
/// dialect. `options` is the pipeline's option string as on the command line
/// ("mode=fused q-tile=64 kv-tile=64"; empty for the defaults). Bad options
/// and pass failures are reported through the context's diagnostic handlers
/// and return failure; the module is then left partly lowered.
MLIR_CAPI_EXPORTED MlirLogicalResult attnRunCpuPipeline(MlirModule module,
                                                        MlirStringRef options);

/// The shared libraries that code compiled by attn-cpu-pipeline calls into
/// (the LLVM OpenMP runtime for mode=fused, MLIR's C runner utils for
/// memrefCopy), as absolute paths: the `sharedLibPaths` of
/// mlirExecutionEngineCreate (mlir-c/ExecutionEngine.h, also in
/// libAttnCAPI.so), or what to link an ahead-of-time object with. Sets
/// `*count`; the array is static.
MLIR_CAPI_EXPORTED const MlirStringRef *attnCpuRuntimeLibraries(int *count);

/// Compiles `module` (attn IR on tensors) for this CPU in process: runs
/// attn-cpu-pipeline with `options` on it (the module is lowered in place),
/// then creates and initializes an execution engine at LLVM `optLevel` (0 to
/// 3) with attnCpuRuntimeLibraries. Look entry points up with
/// mlirExecutionEngineLookup ("_mlir_ciface_<name>" for functions with
/// `llvm.emit_c_interface`) and release the engine with
/// mlirExecutionEngineDestroy. Returns a null engine on failure, reported
/// through the context's diagnostic handlers.
MLIR_CAPI_EXPORTED MlirExecutionEngine attnCompileForCpu(MlirModule module,
                                                         MlirStringRef options,
                                                         int optLevel);

/// Translates `module`, in the LLVM dialect (after attnRunCpuPipeline), to
/// LLVM IR and passes its text to `callback` (in one or more pieces): the
/// ahead-of-time artifact, for llc or clang. Functions that carry the
/// `llvm.emit_c_interface` attribute get a `_mlir_ciface_<name>` entry point
/// taking memref descriptors by pointer. Fails, with diagnostics through the
/// context, when something cannot be translated.
MLIR_CAPI_EXPORTED MlirLogicalResult attnTranslateToLLVMIR(
    MlirModule module, MlirStringCallback callback, void *userData);

#ifdef __cplusplus
}
#endif

#endif // ATTN_C_DIALECTS_H
