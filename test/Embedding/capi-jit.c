/* Compile and run in process through the C API: attnRunCpuPipeline lowers
 * causal grouped-query attention (the IR of Inputs/aot-sdpa.mlir), MLIR's
 * execution engine (mlir-c/ExecutionEngine.h, in libAttnCAPI.so) JIT-compiles
 * it with attnCpuRuntimeLibraries, and the _mlir_ciface_ entry point is
 * called on seeded inputs and checked against attention in double precision
 * (Inputs/sdpa-check.h), in both pipeline modes.
 *
 * REQUIRES: attn-embedding
 * RUN: attn-capi-jit 2>&1 | FileCheck %s
 * CHECK: runtime libraries: 2
 * CHECK: mode=reference: max abs error {{.*}} against the float64 reference (bound 1e-05): ok
 * CHECK: mode=fused q-tile=4 kv-tile=8: max abs error {{.*}} against the float64 reference (bound 1e-05): ok
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

/* Lowers kSource with `options`, JIT-compiles and checks it. */
static int compileAndCheck(MlirContext ctx, const char *options) {
  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kSource));
  if (mlirModuleIsNull(module)) {
    printf("%s: parse failed\n", options);
    return 1;
  }
  if (mlirLogicalResultIsFailure(attnRunCpuPipeline(
          module, mlirStringRefCreateFromCString(options)))) {
    printf("%s: attn-cpu-pipeline failed\n", options);
    mlirModuleDestroy(module);
    return 1;
  }
  int numLibraries = 0;
  const MlirStringRef *libraries = attnCpuRuntimeLibraries(&numLibraries);
  MlirExecutionEngine jit = mlirExecutionEngineCreate(
      module, /*optLevel=*/2, numLibraries, libraries,
      /*enableObjectDump=*/false, /*enablePIC=*/false);
  int status = 1;
  if (mlirExecutionEngineIsNull(jit)) {
    printf("%s: mlirExecutionEngineCreate failed\n", options);
  } else {
    mlirExecutionEngineInitialize(jit);
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
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  attnRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);

  int numLibraries = 0;
  attnCpuRuntimeLibraries(&numLibraries);
  printf("runtime libraries: %d\n", numLibraries);

  int status = compileAndCheck(ctx, "mode=reference");
  status |= compileAndCheck(ctx, "mode=fused q-tile=4 kv-tile=8");
  mlirContextDestroy(ctx);
  printf("done\n");
  return status;
}
