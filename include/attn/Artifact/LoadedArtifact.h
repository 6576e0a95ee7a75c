//===- LoadedArtifact.h - Running ahead-of-time artifacts -------*- C++ -*-===//
//
// Opens an artifact directory of writeArtifact (attn/Artifact/Artifact.h) in
// this process and calls its entries: reads manifest.json, loads the host
// library with dlopen, checks arguments against the manifest.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ARTIFACT_LOADEDARTIFACT_H
#define ATTN_ARTIFACT_LOADEDARTIFACT_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace attn {

/// One ranked tensor of an entry in the manifest.
struct ArtifactTensor {
  std::string name;
  std::string dtype;
  /// The sizes; -1 marks a dynamic dimension (null in the manifest).
  SmallVector<int64_t> shape;
};

/// One entry of the manifest.
struct ArtifactEntry {
  std::string name;
  std::string symbol;
  SmallVector<ArtifactTensor> args;
  SmallVector<ArtifactTensor> results;
  /// The `_mlir_ciface_` function, once loaded.
  void *function = nullptr;
};

/// An artifact directory opened in this process: its manifest read and its
/// host library loaded. No LLVM or MLIR code runs after open.
class LoadedArtifact {
public:
  /// The most pointers a call passes (the results' one and the arguments').
  static constexpr unsigned kMaxCallArgs = 24;

  /// Reads `directory`/manifest.json and loads the library it names. For a
  /// cuda artifact the CUDA driver is loaded too, and its absence is an
  /// error. The dynamic loader shares a library by path: opening a library
  /// that was replaced (recompiled) while a handle on the old one is open
  /// fails rather than run the old code.
  static llvm::Expected<std::unique_ptr<LoadedArtifact>>
  open(llvm::StringRef directory);
  ~LoadedArtifact();

  llvm::StringRef getTarget() const { return target; }
  ArrayRef<ArtifactEntry> getEntries() const { return entries; }
  /// The entry `name`, or an error naming the entries there are.
  llvm::Expected<const ArtifactEntry &> lookup(llvm::StringRef name) const;

  /// Calls `entry` with `args`: a pointer to the result descriptor (to a
  /// struct of them for several results; absent without results), then a
  /// pointer to each argument's memref descriptor, as `_mlir_ciface_<name>`
  /// takes them. Checks the descriptors' static sizes against the manifest
  /// first; for cuda, fails when the run reported a CUDA error.
  llvm::Error call(const ArtifactEntry &entry, void *const *args) const;

  /// Frees a result buffer (a descriptor's `allocated`) with the library's
  /// allocator.
  void freeBuffer(void *allocated) const;

private:
  LoadedArtifact() = default;
  /// Counts this handle as one on the library at `path`; fails when another
  /// open handle loaded an older file of that path.
  llvm::Error registerLibrary(llvm::StringRef path);

  std::string directory;
  std::string target;
  std::vector<ArtifactEntry> entries;
  /// The real path of the library, once registered.
  std::string registeredPath;
  void *library = nullptr;
  void (*freeFunction)(void *) = nullptr;
  int (*cudaGetStatus)() = nullptr;
  const char *(*cudaGetMessage)() = nullptr;
  void (*cudaClearError)() = nullptr;
};

} // namespace attn
} // namespace mlir

#endif // ATTN_ARTIFACT_LOADEDARTIFACT_H
