/* A C program of another project: compiles the causal GQA of
 * ../aot-sdpa.mlir into a cpu artifact with the installed C API
 * (attnCompileArtifact, with the options of its third argument), opens the
 * artifact and calls its entry, checking the result against attention in
 * double precision (../sdpa-check.h). */

#include "../sdpa-check.h"
#include "attn-c/Artifact.h"
#include "attn-c/Dialects.h"
#include "mlir-c/IR.h"

#include <stdlib.h>

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
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

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: consumer-artifact SPEC.mlir DIR OPTIONS\n");
    return 2;
  }
  FILE *file = fopen(argv[1], "rb");
  if (!file) {
    fprintf(stderr, "consumer-artifact: cannot open %s\n", argv[1]);
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
  if (!mlirModuleIsNull(module) &&
      mlirLogicalResultIsSuccess(attnCompileArtifact(
          module, str("cpu"), str(argv[3]), str(argv[2])))) {
    artifact = attnArtifactOpen(str(argv[2]));
    if (attnArtifactIsOpen(artifact))
      status = checkSdpaCausal("consumer artifact", callEntry);
    else
      printf("open: %s\n", attnArtifactGetError(artifact));
    attnArtifactClose(artifact);
  }
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return status;
}
