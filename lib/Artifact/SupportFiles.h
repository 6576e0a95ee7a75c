//===- SupportFiles.h - What artifacts are linked with ----------*- C++ -*-===//
#ifndef ATTN_LIB_ARTIFACT_SUPPORTFILES_H
#define ATTN_LIB_ARTIFACT_SUPPORTFILES_H

#include <string>

namespace mlir {
namespace attn {

/// The files writeArtifact links into or copies next to a host library.
enum class SupportFile {
  /// libattn_artifact_support.a: memrefCopy, attn_artifact_free, linked whole.
  Archive,
  /// libattn_cuda_runtime.so: the mgpu* functions, copied next to cuda
  /// libraries.
  CudaRuntime,
  /// libomp.so.5: LLVM's OpenMP runtime, copied next to cpu libraries.
  OpenMP,
};

/// The path of `file`: next to the library that holds this code (the
/// installed lib/ or the build tree's lib/) when it is there, else where the
/// build put it.
std::string getSupportFile(SupportFile file);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_ARTIFACT_SUPPORTFILES_H
