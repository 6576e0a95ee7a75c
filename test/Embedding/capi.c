/* The C API (include/attn-c/Dialects.h) from a C program: the dialect
 * handle, parsing attn IR, attn passes by name through mlirParsePassPipeline,
 * attn-cpu-pipeline to the LLVM dialect, and a bad option reported through
 * the context's diagnostic handler.
 *
 * REQUIRES: attn-embedding
 * RUN: attn-capi-test 2>%t.err | FileCheck %s
 * RUN: FileCheck %s --check-prefix=ERR --input-file=%t.err
 *
 * stdout and stderr apart: LLVM's option parser writes to stderr, which
 * would otherwise land in the middle of a buffered stdout line.
 * ERR: <Pass-Options-Parser>: no such option tile
 */

#include "attn-c/Dialects.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#include <stdio.h>
#include <string.h>

static const char *kSource =
    "func.func @lowrank(%q: tensor<1x2x16x8xf32>, %e: tensor<1x4x16xf32>,\n"
    "                   %o: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {\n"
    "  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x16x8xf32>,\n"
    "      tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)\n"
    "      projections(%e : tensor<1x4x16xf32>)\n"
    "      outs(%o : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>\n"
    "  return %r : tensor<1x2x16x8xf32>\n"
    "}\n";

static void printToStdout(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

static MlirLogicalResult printDiagnostic(MlirDiagnostic diagnostic,
                                         void *userData) {
  (void)userData;
  printf("diagnostic: ");
  mlirDiagnosticPrint(diagnostic, printToStdout, NULL);
  printf("\n");
  return mlirLogicalResultSuccess();
}

static MlirModule parse(MlirContext ctx) {
  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kSource));
  if (mlirModuleIsNull(module)) {
    printf("parse failed\n");
  }
  return module;
}

static void printModule(MlirModule module) {
  mlirOperationPrint(mlirModuleGetOperation(module), printToStdout, NULL);
  printf("\n");
}

int main(void) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  attnRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  attnRegisterPasses();
  mlirContextAttachDiagnosticHandler(ctx, printDiagnostic, NULL, NULL);

  MlirDialect attn =
      mlirDialectHandleLoadDialect(mlirGetDialectHandle__attn__(), ctx);
  MlirStringRef ns = mlirDialectGetNamespace(attn);
  printf("dialect: %.*s\n", (int)ns.length, ns.data);
  // CHECK: dialect: attn

  // Parsing and printing.
  MlirModule module = parse(ctx);
  if (mlirModuleIsNull(module))
    return 1;
  printf("parsed:\n");
  printModule(module);
  // CHECK-LABEL: parsed:
  // CHECK: func.func @lowrank
  // CHECK: attn.lowrank ins(

  // An attn pass by name.
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm),
      mlirStringRefCreateFromCString("builtin.module(attn-decompose)"),
      printToStdout, NULL);
  if (mlirLogicalResultIsFailure(parsed)) {
    printf("\npipeline parse failed\n");
    return 1;
  }
  if (mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)))) {
    printf("attn-decompose failed\n");
    return 1;
  }
  mlirPassManagerDestroy(pm);
  printf("decomposed:\n");
  printModule(module);
  // CHECK-LABEL: decomposed:
  // CHECK-NOT: attn.lowrank
  // CHECK: linalg.generic
  // CHECK: attn.sdpa ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x16x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
  mlirModuleDestroy(module);

  // attn-cpu-pipeline, fused, with tile options.
  module = parse(ctx);
  if (mlirModuleIsNull(module))
    return 1;
  MlirLogicalResult lowered = attnRunCpuPipeline(
      module, mlirStringRefCreateFromCString("mode=fused q-tile=8 kv-tile=4"));
  printf("fused: %s\n",
         mlirLogicalResultIsSuccess(lowered) ? "success" : "failure");
  printModule(module);
  // CHECK-LABEL: fused: success
  // CHECK-NOT: attn.
  // CHECK: llvm.func @lowrank
  // CHECK-NOT: linalg.
  // CHECK-NOT: tensor.
  // CHECK: llvm.intr.maximum
  mlirModuleDestroy(module);

  // A bad option: failure, and the message through the diagnostic handler.
  module = parse(ctx);
  if (mlirModuleIsNull(module))
    return 1;
  lowered =
      attnRunCpuPipeline(module, mlirStringRefCreateFromCString("mode=fast"));
  printf("bad mode: %s\n",
         mlirLogicalResultIsSuccess(lowered) ? "success" : "failure");
  // CHECK: diagnostic: attn-cpu-pipeline: mode must be 'reference' or 'fused', but got 'fast'
  // CHECK: bad mode: failure
  lowered =
      attnRunCpuPipeline(module, mlirStringRefCreateFromCString("tile=3"));
  printf("bad option: %s\n",
         mlirLogicalResultIsSuccess(lowered) ? "success" : "failure");
  // CHECK: diagnostic: attn-cpu-pipeline: cannot parse the options 'tile=3' (allowed: mode, compute-type, q-tile, kv-tile)
  // CHECK: bad option: failure
  mlirModuleDestroy(module);

  mlirContextDestroy(ctx);
  printf("done\n");
  // CHECK: done
  return 0;
}
