/* Compile and run in process through the C API: causal grouped-query
 * attention (the IR of Inputs/aot-sdpa.mlir) lowered by attnRunCpuPipeline
 * and compiled by MLIR's execution engine (mlir-c/ExecutionEngine.h, in
 * libAttnCAPI.so) with attnCpuRuntimeLibraries (mode=reference), or in one
 * call by attnCompileForCpu (mode=fused); the _mlir_ciface_ entry point is
 * called on seeded inputs and checked against attention in double precision
 * (Inputs/sdpa-check.h). Bad options and a bad optimization level give null
 * engines and diagnostics.
 *
 * REQUIRES: attn-embedding
 * RUN: attn-capi-jit 2>&1 | FileCheck %s
 * CHECK: runtime libraries: 2
 * CHECK: mode=reference: max abs error {{.*}} against the float64 reference (bound 1e-05): ok
 * CHECK: mode=fused q-tile=4 kv-tile=8: max abs error {{.*}} against the float64 reference (bound 1e-05): ok
 * CHECK: error: attn-cpu-pipeline: mode must be 'reference' or 'fused', but got 'fast'
 * CHECK: mode=fast: no engine
 * CHECK: error: attnCompileForCpu: optLevel must be 0 to 3, but got 7
 * CHECK: mode=fused: no engine
 * CHECK: done
 */

#include "Inputs/sdpa-check.h"
#include "attn-c/Dialects.h"
#include "mlir-c/ExecutionEngine.h"
#include "mlir-c/IR.h"

static const char *kSource =
    "func.func @sdpa_causal(%q: tensor<2x2x16x8xf32>,\n"
    "    %k: tensor<2x1x16x8xf32>, %v: tensor<2x1x16x8xf32>,\n"
    "    %o: tensor<2x2x16x8xf32>)\n"
    "    -> tensor<2x2x16x8xf32> attributes {llvm.emit_c_interface} {\n"
    "  %r = attn.sdpa ins(%q, %k, %v : tensor<2x2x16x8xf32>,\n"
    "      tensor<2x1x16x8xf32>, tensor<2x1x16x8xf32>)\n"
    "      outs(%o : tensor<2x2x16x8xf32>) pattern(#attn.causal)\n"
    "      -> tensor<2x2x16x8xf32>\n"
    "  return %r : tensor<2x2x16x8xf32>\n"
    "}\n";

/* The engine of kSource lowered with `options`: by hand (attnRunCpuPipeline,
 * then mlirExecutionEngineCreate with attnCpuRuntimeLibraries) or in one
 * call (attnCompileForCpu). Null on failure. */
static MlirExecutionEngine compile(MlirModule module, const char *options,
                                   int optLevel, int byHand) {
  MlirStringRef optionsRef = mlirStringRefCreateFromCString(options);
  if (!byHand)
    return attnCompileForCpu(module, optionsRef, optLevel);
  if (mlirLogicalResultIsFailure(attnRunCpuPipeline(module, optionsRef)))
    return (MlirExecutionEngine){NULL};
  int numLibraries = 0;
  const MlirStringRef *libraries = attnCpuRuntimeLibraries(&numLibraries);
  MlirExecutionEngine jit = mlirExecutionEngineCreate(
      module, optLevel, numLibraries, libraries,
      /*enableObjectDump=*/false, /*enablePIC=*/false);
  if (!mlirExecutionEngineIsNull(jit))
    mlirExecutionEngineInitialize(jit);
  return jit;
}

/* Compiles kSource with `options` and checks it; prints "<options>: no
 * engine" when compilation fails. */
static int compileAndCheck(MlirContext ctx, const char *options, int optLevel,
                           int byHand) {
  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kSource));
  if (mlirModuleIsNull(module)) {
    printf("%s: parse failed\n", options);
    return 1;
  }
  MlirExecutionEngine jit = compile(module, options, optLevel, byHand);
  int status = 1;
  if (mlirExecutionEngineIsNull(jit)) {
    printf("%s: no engine\n", options);
  } else {
    SdpaCausalFn fn = (SdpaCausalFn)mlirExecutionEngineLookup(
        jit, mlirStringRefCreateFromCString("_mlir_ciface_sdpa_causal"));
    if (!fn)
      printf("%s: no _mlir_ciface_sdpa_causal\n", options);
    else
      status = checkSdpaCausal(options, fn);
    mlirExecutionEngineDestroy(jit);
  }
  mlirModuleDestroy(module);
  return status;
}

int main(void) {
  /* In order with the diagnostics, which MLIR writes to stderr. */
  setvbuf(stdout, NULL, _IONBF, 0);
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  attnRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);

  int numLibraries = 0;
  attnCpuRuntimeLibraries(&numLibraries);
  printf("runtime libraries: %d\n", numLibraries);

  int status = compileAndCheck(ctx, "mode=reference", 2, /*byHand=*/1);
  status |= compileAndCheck(ctx, "mode=fused q-tile=4 kv-tile=8", 2,
                            /*byHand=*/0);
  /* Failures: null engines, with the reason through the diagnostics. */
  if (!compileAndCheck(ctx, "mode=fast", 2, /*byHand=*/0) ||
      !compileAndCheck(ctx, "mode=fused", 7, /*byHand=*/0))
    status = 1;
  mlirContextDestroy(ctx);
  printf("done\n");
  return status;
}
