//===- SupportFiles.cpp - What artifacts are linked with ------------------===//
#include "SupportFiles.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <dlfcn.h>

using namespace mlir::attn;

/// The directory of the shared object (or executable) this code is in.
static std::string getOwnDirectory() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&getSupportFile), &info) ||
      !info.dli_fname)
    return "";
  return llvm::sys::path::parent_path(info.dli_fname).str();
}

std::string mlir::attn::getSupportFile(SupportFile file) {
  const char *built = nullptr;
  switch (file) {
  case SupportFile::Archive:
    built = ATTN_ARTIFACT_SUPPORT;
    break;
  case SupportFile::CudaRuntime:
    built = ATTN_CUDA_RUNTIME_LIBRARY;
    break;
  case SupportFile::OpenMP:
    // Debian's LLVM OpenMP runtime, installed with LLVM: never moves.
    return ATTN_OPENMP_LIBRARY;
  }
  std::string directory = getOwnDirectory();
  if (directory.empty())
    return built;
  llvm::SmallString<256> local(directory);
  llvm::sys::path::append(local, llvm::sys::path::filename(built));
  if (llvm::sys::fs::exists(local))
    return local.str().str();
  return built;
}
