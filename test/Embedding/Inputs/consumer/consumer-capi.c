/* A C program of another project: reads attn IR from the file named by its
 * argument, runs attn-cpu-pipeline with the options of its second argument
 * through the installed C API, and prints the module. */

#include "attn-c/Dialects.h"
#include "mlir-c/IR.h"

#include <stdio.h>
#include <stdlib.h>

static void print(MlirStringRef text, void *userData) {
  fwrite(text.data, 1, text.length, (FILE *)userData);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: consumer-capi FILE.mlir OPTIONS\n");
    return 2;
  }
  FILE *file = fopen(argv[1], "rb");
  if (!file) {
    fprintf(stderr, "consumer-capi: cannot open %s\n", argv[1]);
    return 1;
  }
  static char source[1 << 16];
  size_t length = fread(source, 1, sizeof(source), file);
  fclose(file);

  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  attnRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);

  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreate(source, length));
  int status = 1;
  if (!mlirModuleIsNull(module)) {
    if (mlirLogicalResultIsSuccess(attnRunCpuPipeline(
            module, mlirStringRefCreateFromCString(argv[2])))) {
      mlirOperationPrint(mlirModuleGetOperation(module), print, stdout);
      status = 0;
    }
    mlirModuleDestroy(module);
  }
  mlirContextDestroy(ctx);
  return status;
}
