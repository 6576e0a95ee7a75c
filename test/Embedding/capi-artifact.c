/* Ahead-of-time artifacts through the C API (attn-c/Artifact.h): a causal
 * grouped-query attention with a dynamic length is compiled into an
 * artifact directory (attnCompileArtifact), which is opened
 * (attnArtifactOpen) and called at two lengths, N=16 and N=37, from the one
 * compile (attnArtifactCall), and once through the entry's address
 * (attnArtifactLookup); each result is compared with attention computed in
 * double precision (Inputs/sdpa-check.h). A dense variant compiled into the
 * same directory after the close is what the next open runs. Then the
 * failures: bad compile
 * targets and options, missing and bad artifact directories, an unknown
 * entry, a descriptor with a wrong static size, null pointers. With --cuda
 * DIR: a cuda artifact compiles without a GPU, and opening it without a
 * CUDA driver fails with that reason (capi-artifact-cuda.test).
 *
 * REQUIRES: attn-embedding
 * RUN: rm -rf %t && mkdir -p %t
 * RUN: attn-capi-artifact %t 2>&1 | FileCheck %s
 * RUN: FileCheck %s --check-prefix=MANIFEST --input-file=%t/cpu/manifest.json
 *
 * CHECK: compile cpu: ok
 * CHECK: target cpu, 1 entries: sdpa_causal, 4 arguments, 1 results
 * CHECK: q: 2x2x?x8
 * CHECK: call N=16: max abs error {{.*}} against the float64 reference (bound 1e-05): ok
 * CHECK: call N=37: max abs error {{.*}} against the float64 reference (bound 1e-05): ok
 * CHECK: lookup N=16: max abs error {{.*}} against the float64 reference (bound 1e-05): ok
 *
 * CHECK: unknown entry: the artifact '{{.*}}cpu' has no entry @nope (entries: @sdpa_causal)
 * CHECK: unknown lookup: null, the artifact '{{.*}}cpu' has no entry @nope (entries: @sdpa_causal)
 * CHECK: wrong size: @sdpa_causal, argument #0 ('arg0'): dimension 3 is 4, but the entry takes 8
 * CHECK: null args: @sdpa_causal: the argument array is null
 * CHECK: null descriptor: @sdpa_causal, argument #2 ('arg2'): the descriptor pointer is null
 * CHECK: no dimension 4: -2, argument 'arg0' has rank 4, not a dimension 4
 * CHECK: after a good call: ''
 * CHECK: compile dense: ok
 * CHECK: open replaced while open: '{{.*}}libsdpa.so' was replaced after another handle of this process loaded it, and that handle is still open: the dynamic loader would return the old library; close it first
 * CHECK: call N=16 dense: max abs error {{.*}} against the float64 reference (bound 1e-05): ok
 * CHECK: null module: failed
 *
 * CHECK: open missing: '{{.*}}missing' is not a directory (an artifact is the directory that attn-compile -o or attnCompileArtifact wrote)
 * CHECK: open empty: cannot read '{{.*}}empty/manifest.json': No such file or directory
 * CHECK: open not-json: '{{.*}}manifest.json' is not valid JSON: {{.+}}
 * CHECK: open other-format: '{{.*}}manifest.json' is not an attn artifact manifest (no "format": "attn-artifact")
 * CHECK: open no-library: cannot load '{{.*}}libnone.so': {{.*}}libnone.so: cannot open shared object file
 * CHECK: call on failed: the artifact is not open: '{{.*}}missing' is not a directory
 * CHECK: null handle: open 0, 'null artifact handle', 0 entries
 *
 * CHECK: error: attnCompileArtifact: target must be cpu or cuda, but got 'rocm'
 * CHECK: compile rocm: failed
 * CHECK: error: attnCompileArtifact: cannot parse the options 'mode=fast' (allowed: entry, name, cpu, linker, chip, features, toolkit, format, gpu-abi)
 * CHECK: compile mode=fast: failed
 * CHECK: error: attnCompileArtifact: the module has no public function @nope with a body
 * CHECK: compile entry=nope: failed
 * CHECK: error: attnCompileArtifact: gpu-abi=device needs target=cuda
 * CHECK: compile gpu-abi=device: failed
 * CHECK: done
 *
 * MANIFEST: "library": "libsdpa.so"
 * MANIFEST: "target": "cpu"
 */

#include "Inputs/sdpa-check.h"
#include "attn-c/Artifact.h"
#include "attn-c/Dialects.h"
#include "mlir-c/IR.h"

#include <string.h>
#include <sys/stat.h>

/* The spec, before and after the pattern clause. */
static const char *kSourceHead =
    "func.func @sdpa_causal(%q: tensor<2x2x?x8xf32>,\n"
    "    %k: tensor<2x1x?x8xf32>, %v: tensor<2x1x?x8xf32>,\n"
    "    %o: tensor<2x2x?x8xf32>) -> tensor<2x2x?x8xf32> {\n"
    "  %r = attn.sdpa ins(%q, %k, %v : tensor<2x2x?x8xf32>,\n"
    "      tensor<2x1x?x8xf32>, tensor<2x1x?x8xf32>)\n"
    "      outs(%o : tensor<2x2x?x8xf32>)";
static const char *kSourceTail =
    "\n"
    "      -> tensor<2x2x?x8xf32>\n"
    "  return %r : tensor<2x2x?x8xf32>\n"
    "}\n";

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

/* The spec, causal or dense. */
static MlirModule parseSpec(MlirContext ctx, int causal) {
  static char source[1024];
  snprintf(source, sizeof(source), "%s%s%s", kSourceHead,
           causal ? " pattern(#attn.causal)" : "", kSourceTail);
  return mlirModuleCreateParse(ctx, str(source));
}

static char path[4096];
/* dir/name in `path`. */
static const char *join(const char *dir, const char *name) {
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  return path;
}

/* Frees a result that the code allocated (not one of the argument arrays). */
static void freeResult(AttnArtifact artifact, const Memref4 *result) {
  if (result->allocated != q && result->allocated != k &&
      result->allocated != v && result->allocated != o)
    attnArtifactFree(artifact, result->allocated);
}

/* Calls the entry on inputs of length n and checks the result. */
static int callAndCheck(AttnArtifact artifact, int64_t n, int causal) {
  Memref4 in[4], result;
  makeInputs(n, in);
  void *args[] = {&result, &in[0], &in[1], &in[2], &in[3]};
  char label[32];
  snprintf(label, sizeof(label), "call N=%lld%s", (long long)n,
           causal ? "" : " dense");
  if (mlirLogicalResultIsFailure(
          attnArtifactCall(artifact, str("sdpa_causal"), args))) {
    printf("%s: %s\n", label, attnArtifactGetError(artifact));
    return 1;
  }
  int status = compareSdpa(label, n, &result, causal);
  freeResult(artifact, &result);
  return status;
}

/* Prints what the manifest says of the entry. */
static void describeArtifact(AttnArtifact artifact) {
  MlirStringRef target = attnArtifactGetTarget(artifact);
  MlirStringRef name = attnArtifactGetEntryName(artifact, 0);
  printf("target %.*s, %d entries: %.*s, %d arguments, %d results\n",
         (int)target.length, target.data,
         (int)attnArtifactGetNumEntries(artifact), (int)name.length, name.data,
         (int)attnArtifactGetNumArguments(artifact, name),
         (int)attnArtifactGetNumResults(artifact, name));
  printf("q: ");
  for (int d = 0; d < attnArtifactGetArgumentRank(artifact, name, 0); ++d) {
    int64_t size = attnArtifactGetArgumentDim(artifact, name, 0, d);
    if (size < 0)
      printf(d ? "x?" : "?");
    else
      printf(d ? "x%lld" : "%lld", (long long)size);
  }
  printf("\n");
}

/* Calls that must fail, and why. */
static void callErrors(AttnArtifact artifact) {
  Memref4 in[4], result;
  makeInputs(16, in);
  void *args[] = {&result, &in[0], &in[1], &in[2], &in[3]};
  attnArtifactCall(artifact, str("nope"), args);
  printf("unknown entry: %s\n", attnArtifactGetError(artifact));
  void *fn = attnArtifactLookup(artifact, str("nope"));
  printf("unknown lookup: %s, %s\n", fn ? "non-null" : "null",
         attnArtifactGetError(artifact));
  in[0].sizes[3] = 4;
  attnArtifactCall(artifact, str("sdpa_causal"), args);
  printf("wrong size: %s\n", attnArtifactGetError(artifact));
  in[0].sizes[3] = D;
  attnArtifactCall(artifact, str("sdpa_causal"), NULL);
  printf("null args: %s\n", attnArtifactGetError(artifact));
  args[3] = NULL;
  attnArtifactCall(artifact, str("sdpa_causal"), args);
  printf("null descriptor: %s\n", attnArtifactGetError(artifact));
  printf("no dimension 4: %lld, %s\n",
         (long long)attnArtifactGetArgumentDim(artifact, str("sdpa_causal"), 0,
                                               4),
         attnArtifactGetError(artifact));
  args[3] = &in[2];
  if (mlirLogicalResultIsSuccess(
          attnArtifactCall(artifact, str("sdpa_causal"), args)))
    freeResult(artifact, &result);
  printf("after a good call: '%s'\n", attnArtifactGetError(artifact));
}

static void writeFile(const char *file, const char *text) {
  FILE *f = fopen(file, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* Opens `dir` expecting a failure; prints the reason. */
static void openFails(const char *label, const char *dir) {
  AttnArtifact artifact = attnArtifactOpen(str(dir));
  printf("open %s: %s%s\n", label, attnArtifactIsOpen(artifact) ? "OPENED " : "",
         attnArtifactGetError(artifact));
  attnArtifactClose(artifact);
}

static void openErrors(const char *dir) {
  char sub[4096];
  openFails("missing", join(dir, "missing"));
  snprintf(sub, sizeof(sub), "%s/empty", dir);
  mkdir(sub, 0777);
  openFails("empty", sub);
  snprintf(sub, sizeof(sub), "%s/not-json", dir);
  mkdir(sub, 0777);
  writeFile(join(sub, "manifest.json"), "{ not json");
  openFails("not-json", sub);
  snprintf(sub, sizeof(sub), "%s/other-format", dir);
  mkdir(sub, 0777);
  writeFile(join(sub, "manifest.json"), "{\"format\": \"other\"}");
  openFails("other-format", sub);
  snprintf(sub, sizeof(sub), "%s/no-library", dir);
  mkdir(sub, 0777);
  writeFile(join(sub, "manifest.json"),
            "{\"format\": \"attn-artifact\", \"version\": 1, \"target\": "
            "\"cpu\", \"library\": \"libnone.so\", \"free\": "
            "\"attn_artifact_free\", \"entries\": []}");
  openFails("no-library", sub);

  AttnArtifact failed = attnArtifactOpen(str(join(dir, "missing")));
  attnArtifactCall(failed, str("sdpa_causal"), NULL);
  printf("call on failed: %s\n", attnArtifactGetError(failed));
  attnArtifactClose(failed);
  AttnArtifact null = {NULL};
  printf("null handle: open %d, '%s', %d entries\n", attnArtifactIsOpen(null),
         attnArtifactGetError(null), (int)attnArtifactGetNumEntries(null));
  attnArtifactClose(null);
}

/* Compiles `module` for `target` with `options` into dir/<subdir>; prints
 * "compile <label>: ok" or "failed" (the reason is a diagnostic). */
static int compile(MlirModule module, const char *target, const char *options,
                   const char *dir, const char *subdir, const char *label) {
  MlirLogicalResult result = attnCompileArtifact(
      module, str(target), str(options), str(join(dir, subdir)));
  int ok = mlirLogicalResultIsSuccess(result);
  printf("compile %s: %s\n", label, ok ? "ok" : "failed");
  return ok;
}

static int runCpu(MlirModule module, const char *dir) {
  if (!compile(module, "cpu", "name=sdpa", dir, "cpu", "cpu"))
    return 1;
  AttnArtifact artifact = attnArtifactOpen(str(join(dir, "cpu")));
  if (!attnArtifactIsOpen(artifact)) {
    printf("open: %s\n", attnArtifactGetError(artifact));
    attnArtifactClose(artifact);
    return 1;
  }
  describeArtifact(artifact);
  int status = callAndCheck(artifact, 16, 1) | callAndCheck(artifact, 37, 1);
  SdpaCausalFn fn =
      (SdpaCausalFn)attnArtifactLookup(artifact, str("sdpa_causal"));
  status |= fn ? checkSdpaCausal("lookup N=16", fn) : 1;
  callErrors(artifact);

  /* Compiled again into the same directory while open: the files are
   * replaced, not overwritten (the process maps the library and
   * libomp.so.5); opening the new library while the old is loaded fails,
   * after the close it is what runs. */
  MlirModule dense = parseSpec(mlirModuleGetContext(module), /*causal=*/0);
  if (!compile(dense, "cpu", "name=sdpa", dir, "cpu", "dense"))
    status = 1;
  mlirModuleDestroy(dense);
  openFails("replaced while open", join(dir, "cpu"));
  attnArtifactClose(artifact);
  artifact = attnArtifactOpen(str(join(dir, "cpu")));
  status |= attnArtifactIsOpen(artifact) ? callAndCheck(artifact, 16, 0) : 1;
  attnArtifactClose(artifact);
  printf("null module: %s\n",
         mlirLogicalResultIsFailure(attnCompileArtifact(
             (MlirModule){NULL}, str("cpu"), str(""), str(dir)))
             ? "failed"
             : "ok");

  openErrors(dir);

  /* Compile failures: diagnostics through the context, nothing written. */
  if (compile(module, "rocm", "", dir, "bad", "rocm") ||
      compile(module, "cpu", "mode=fast", dir, "bad", "mode=fast") ||
      compile(module, "cpu", "entry=nope", dir, "bad", "entry=nope") ||
      compile(module, "cpu", "gpu-abi=device", dir, "bad", "gpu-abi=device"))
    status = 1;
  return status;
}

/* A cuda artifact compiles without a GPU (format=isa: no toolkit); opening
 * it needs the CUDA driver. */
static int runCuda(MlirModule module, const char *dir) {
  if (!compile(module, "cuda", "format=isa name=sdpa", dir, "cuda", "cuda"))
    return 1;
  AttnArtifact artifact = attnArtifactOpen(str(join(dir, "cuda")));
  printf("open cuda: %s, %s\n", attnArtifactIsOpen(artifact) ? "open" : "failed",
         attnArtifactGetError(artifact));
  attnArtifactClose(artifact);
  return 0;
}

int main(int argc, char **argv) {
  int cuda = argc == 3 && strcmp(argv[1], "--cuda") == 0;
  if (argc != 2 && !cuda) {
    fprintf(stderr, "usage: attn-capi-artifact [--cuda] DIR\n");
    return 2;
  }
  const char *dir = argv[argc - 1];
  /* In order with the diagnostics, which MLIR writes to stderr. */
  setvbuf(stdout, NULL, _IONBF, 0);
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  attnRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  MlirModule module = parseSpec(ctx, /*causal=*/1);
  if (mlirModuleIsNull(module)) {
    printf("parse failed\n");
    return 1;
  }
  int status = cuda ? runCuda(module, dir) : runCpu(module, dir);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  printf("done\n");
  return status;
}
