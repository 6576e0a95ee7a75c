/* attn-capi-compile FILE.mlir OPTIONS: the ahead-of-time path of the C API.
 * Parses FILE, runs attn-cpu-pipeline with OPTIONS (attnRunCpuPipeline) and
 * prints the LLVM IR of the result (attnTranslateToLLVMIR) on stdout, for
 * llc. Used by capi-aot.test, which compiles, links and runs that IR. */

#include "attn-c/Dialects.h"
#include "mlir-c/IR.h"

#include <stdio.h>

static void printTo(MlirStringRef text, void *userData) {
  fwrite(text.data, 1, text.length, (FILE *)userData);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: attn-capi-compile FILE.mlir OPTIONS\n");
    return 2;
  }
  FILE *file = fopen(argv[1], "rb");
  if (!file) {
    fprintf(stderr, "attn-capi-compile: cannot open %s\n", argv[1]);
    return 1;
  }
  static char source[1 << 16];
  size_t length = fread(source, 1, sizeof(source), file);
  fclose(file);
  if (length == sizeof(source)) {
    fprintf(stderr, "attn-capi-compile: %s is larger than 64 KiB\n", argv[1]);
    return 1;
  }

  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  attnRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);

  int status = 1;
  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreate(source, length));
  if (!mlirModuleIsNull(module)) {
    if (mlirLogicalResultIsSuccess(attnRunCpuPipeline(
            module, mlirStringRefCreateFromCString(argv[2]))) &&
        mlirLogicalResultIsSuccess(
            attnTranslateToLLVMIR(module, printTo, stdout)))
      status = 0;
    mlirModuleDestroy(module);
  }
  mlirContextDestroy(ctx);
  return status;
}
