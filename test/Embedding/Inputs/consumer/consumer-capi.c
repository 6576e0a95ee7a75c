/* A C program of another project, on the installed C API. Reads attn IR
 * from the file named by its first argument, then
 *   consumer-capi FILE OPTIONS      runs attn-cpu-pipeline with OPTIONS and
 *                                   prints the module;
 *   consumer-capi FILE OPTIONS DIR  compiles the causal GQA of
 *                                   ../aot-sdpa.mlir into the cpu artifact
 *                                   DIR (attnCompileArtifact with OPTIONS),
 *                                   opens it and calls its entry, checking
 *                                   the result against attention in double
 *                                   precision (../sdpa-check.h). */

#include "../sdpa-check.h"
#include "attn-c/Artifact.h"
#include "attn-c/Dialects.h"
#include "mlir-c/IR.h"

#include <stdlib.h>

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

static void print(MlirStringRef text, void *userData) {
  fwrite(text.data, 1, text.length, (FILE *)userData);
}

static AttnArtifact artifact;

/* The entry through attnArtifactCall, with sdpa-check.h's signature. */
static void callEntry(Memref4 *result, Memref4 *q, Memref4 *k, Memref4 *v,
                      Memref4 *o) {
  void *args[] = {result, q, k, v, o};
  if (mlirLogicalResultIsFailure(
          attnArtifactCall(artifact, str("sdpa_causal"), args))) {
    printf("call: %s\n", attnArtifactGetError(artifact));
    exit(1);
  }
}

/* Compiles `module` into the artifact `dir` and checks its entry. */
static int compileAndRun(MlirModule module, const char *options,
                         const char *dir) {
  if (mlirLogicalResultIsFailure(
          attnCompileArtifact(module, str("cpu"), str(options), str(dir))))
    return 1;
  artifact = attnArtifactOpen(str(dir));
  int status = 1;
  if (attnArtifactIsOpen(artifact))
    status = checkSdpaCausal("consumer artifact", callEntry);
  else
    printf("open: %s\n", attnArtifactGetError(artifact));
  attnArtifactClose(artifact);
  return status;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: consumer-capi FILE.mlir OPTIONS [ARTIFACT-DIR]\n");
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
    if (argc == 4) {
      status = compileAndRun(module, argv[2], argv[3]);
    } else if (mlirLogicalResultIsSuccess(
                   attnRunCpuPipeline(module, str(argv[2])))) {
      mlirOperationPrint(mlirModuleGetOperation(module), print, stdout);
      status = 0;
    }
    mlirModuleDestroy(module);
  }
  mlirContextDestroy(ctx);
  return status;
}
