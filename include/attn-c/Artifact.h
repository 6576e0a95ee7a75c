/*===-- attn-c/Artifact.h - Ahead-of-time artifacts from C -------*- C -*-===*\
|*                                                                            *|
|* Compile an attn spec into an artifact directory (what attn-compile writes: *|
|* lib<name>.so, the runtime it needs, manifest.json) and run an artifact in  *|
|* this process. In libAttnCAPI.so with attn-c/Dialects.h; docs/Embedding.md  *|
|* ("Artifacts from C") has a complete example.                               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTN_C_ARTIFACT_H
#define ATTN_C_ARTIFACT_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//===----------------------------------------------------------------------===//
// Compiling
//===----------------------------------------------------------------------===//

/// Compiles `module` (attn IR on tensors, e.g. from mlirModuleCreateParse in
/// a context of attnRegisterAllDialects) into the artifact directory
/// `outputDir`, which is created; existing files of the same names are
/// replaced. `module` itself is not changed (a copy is lowered), so it can
/// be compiled again, for another target say.
///
/// `target` is "cpu" (attn-cpu-pipeline, fused) or "cuda" (attn-gpu-pipeline;
/// compiling needs no GPU, format=isa needs no CUDA toolkit either).
/// `options` is a space-separated option string with attn-compile's flag
/// names (empty for the defaults):
///   entry=a,b       the functions to export (default: every public function
///                   with a body);
///   name=N          the library's name, lib<N>.so (default: "artifact");
///   cpu=C           the host CPU (default x86-64-v2; native: this one's);
///   linker=PATH     the compiler driver that links (default: clang-22);
///   chip=, features=, toolkit=, format=fatbin|bin|isa,
///   gpu-abi=host|device   the GPU binary and ABI (cuda only).
/// The manifest names the arguments arg0, arg1, ... (a parsed module does
/// not keep the source's names).
///
/// Failures (a bad target or option, an unknown entry, an argument that is
/// not a ranked tensor, a pipeline or link error) return failure and are
/// reported through the context's diagnostic handlers; nothing is written
/// unless the lowering succeeded. A null module fails without a diagnostic.
MLIR_CAPI_EXPORTED MlirLogicalResult attnCompileArtifact(
    MlirModule module, MlirStringRef target, MlirStringRef options,
    MlirStringRef outputDir);

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

/// An artifact opened in this process: its manifest read, its library
/// loaded. Running needs no MLIR context. One handle must not be used by
/// several threads at once (its error message is per handle).
typedef struct AttnArtifact {
  void *ptr;
} AttnArtifact;

/// Opens the artifact directory `directory`: reads manifest.json and loads
/// the host library it names (dlopen, with every entry's symbol resolved).
/// For a cuda artifact it also loads the CUDA driver and sets up device 0;
/// without a driver the open fails ("no CUDA driver (libcuda.so.1 not
/// found)").
///
/// Returns a handle also on failure: then attnArtifactIsOpen is false and
/// attnArtifactGetError says why (a missing directory or manifest, a
/// manifest that is not one of an attn artifact, a library that does not
/// load or lacks a symbol, no CUDA driver). Release it with
/// attnArtifactClose either way.
///
/// attnCompileArtifact may write into a directory whose artifact is open
/// (its files are replaced, not overwritten), but the dynamic loader shares
/// a library by its path: while a handle on the old library is open,
/// opening the new one fails ("... was replaced after another handle of
/// this process loaded it ..."); close the old handles first.
MLIR_CAPI_EXPORTED AttnArtifact attnArtifactOpen(MlirStringRef directory);

/// Whether `artifact` was opened (false for a failed open or a null handle).
MLIR_CAPI_EXPORTED bool attnArtifactIsOpen(AttnArtifact artifact);

/// The message of the last call on `artifact` that failed, or "" when the
/// last call succeeded. Valid until the next call on the handle.
MLIR_CAPI_EXPORTED const char *attnArtifactGetError(AttnArtifact artifact);

/// "cpu" or "cuda" (empty when not open).
MLIR_CAPI_EXPORTED MlirStringRef attnArtifactGetTarget(AttnArtifact artifact);

/// The number of entries, and the name of entry `index` (in manifest order;
/// empty for an index out of range). Zero and empty when not open.
MLIR_CAPI_EXPORTED intptr_t attnArtifactGetNumEntries(AttnArtifact artifact);
MLIR_CAPI_EXPORTED MlirStringRef attnArtifactGetEntryName(AttnArtifact artifact,
                                                          intptr_t index);

/// The number of arguments and of results of `entry`; -1 (with an error)
/// for an unknown entry.
MLIR_CAPI_EXPORTED intptr_t attnArtifactGetNumArguments(AttnArtifact artifact,
                                                        MlirStringRef entry);
MLIR_CAPI_EXPORTED intptr_t attnArtifactGetNumResults(AttnArtifact artifact,
                                                      MlirStringRef entry);

/// The size of dimension `dim` of argument `index` of `entry` as compiled:
/// the static size, -1 for a dynamic one (any size), -2 with an error for an
/// unknown entry, argument or dimension. attnArtifactGetArgumentRank is the
/// argument's rank (-2 on error).
MLIR_CAPI_EXPORTED intptr_t attnArtifactGetArgumentRank(AttnArtifact artifact,
                                                        MlirStringRef entry,
                                                        intptr_t index);
MLIR_CAPI_EXPORTED int64_t attnArtifactGetArgumentDim(AttnArtifact artifact,
                                                      MlirStringRef entry,
                                                      intptr_t index,
                                                      intptr_t dim);

/// The address of `entry`'s `_mlir_ciface_<entry>` function, to call
/// directly (see attnArtifactCall for its arguments), or NULL with an error
/// naming the entries there are.
MLIR_CAPI_EXPORTED void *attnArtifactLookup(AttnArtifact artifact,
                                            MlirStringRef entry);

/// Calls `entry`. `args` holds, as `_mlir_ciface_<entry>` takes them: a
/// pointer to the result's memref descriptor (with several results, to a
/// struct of their descriptors; nothing when the entry has no result), then
/// a pointer to each argument's memref descriptor, in order. A rank-R
/// descriptor is
///   struct { T *allocated; T *aligned; int64_t offset;
///            int64_t sizes[R]; int64_t strides[R]; };
/// The results are written into the result descriptors; a result buffer
/// that the code allocated (its `allocated` is not one of the arguments')
/// is released with attnArtifactFree.
///
/// Fails, without calling, for an unknown entry, a null `args` or
/// descriptor pointer, or a static size that differs from the one compiled
/// (attnArtifactGetArgumentDim); dynamic sizes and the data are the
/// caller's to get right. For a cuda artifact, fails when the GPU reported
/// an error during the call (the results are then undefined).
MLIR_CAPI_EXPORTED MlirLogicalResult attnArtifactCall(AttnArtifact artifact,
                                                      MlirStringRef entry,
                                                      void **args);

/// Frees a result buffer (a result descriptor's `allocated`) with the
/// allocator of the artifact's library. NULL is ignored.
MLIR_CAPI_EXPORTED void attnArtifactFree(AttnArtifact artifact,
                                         void *allocated);

/// Unloads the library and releases the handle (also a failed one); the
/// entries' addresses are invalid afterwards. A null handle is ignored.
MLIR_CAPI_EXPORTED void attnArtifactClose(AttnArtifact artifact);

#ifdef __cplusplus
}
#endif

#endif // ATTN_C_ARTIFACT_H
