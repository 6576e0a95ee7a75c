//===- Jit.h - Compile an entry function and call it ------------*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTN_RUN_JIT_H
#define ATTN_TOOLS_ATTN_RUN_JIT_H

#include "Npy.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <memory>

namespace attn_run {

/// Exit code of an error (one `attn-run: error:` line on stderr).
inline constexpr int kExitError = 1;
/// Exit code of --check when a result exceeds its bound.
inline constexpr int kExitCheckFailed = 2;
/// Exit code of a failed run-time check (cf.assert) of the compiled code.
inline constexpr int kExitRuntimeCheck = 3;

/// Lowers a clone of `module` with `attn-cpu-pipeline{mode compute-type}`,
/// giving `entry` a C interface, and JIT-compiles it at -O2. Diagnostics go
/// to the context's handler; failure means they were printed.
///
/// The compiled code's malloc, calloc, realloc, aligned_alloc and
/// posix_memalign are checked: a failed allocation prints `attn-run: error:
/// out of memory: ...` and exits with kExitError. Its abort (after the puts
/// of a failed cf.assert) prints the assert's message as an `attn-run:
/// error:` and exits with kExitRuntimeCheck.
mlir::FailureOr<std::unique_ptr<mlir::ExecutionEngine>>
compileModule(mlir::ModuleOp module, llvm::StringRef entry,
              llvm::StringRef mode, llvm::StringRef computeType);

/// Calls `_mlir_ciface_<entry>` on host arrays: the arguments are passed as
/// memref descriptors over the arrays' storage (the compiled code may write
/// into them), the results come back as descriptors of buffers that the
/// compiled code allocated.
class Invocation {
public:
  /// Prepares the descriptors of `args`; `resultKinds` and `resultRanks`
  /// describe the entry's results.
  Invocation(mlir::ExecutionEngine &engine, llvm::StringRef entry,
             llvm::MutableArrayRef<HostArray> args,
             llvm::ArrayRef<ElementKind> resultKinds,
             llvm::ArrayRef<unsigned> resultRanks);
  ~Invocation() { releaseResults(); }

  /// Looks the entry up; must succeed before `call`.
  llvm::Error prepare();
  /// Runs the entry once. The results of a previous call are released first.
  void call();
  /// Copies the results of the last call into host arrays.
  llvm::SmallVector<HostArray> copyResults() const;
  /// Frees the result buffers that the compiled code allocated.
  void releaseResults();
  /// Returns whether a result of the last call lives in the buffer that
  /// starts at `data` (the compiled code may return an argument's buffer).
  bool resultUses(const void *data) const;

private:
  /// Returns the field offset (in int64 slots) of result `index`.
  size_t getResultOffset(unsigned index) const;

  mlir::ExecutionEngine &engine;
  std::string entryName;
  llvm::SmallVector<ElementKind> resultKinds;
  llvm::SmallVector<unsigned> resultRanks;
  llvm::SmallVector<llvm::SmallVector<int64_t>> argDescriptors;
  llvm::SmallVector<void *> argPointers;
  llvm::SmallVector<int64_t> resultStorage;
  void *resultPointer = nullptr;
  llvm::SmallVector<void *> packedArgs;
  llvm::SmallVector<void *> inputAllocations;
  void (*function)(void **) = nullptr;
  bool hasResults = false;
};

} // namespace attn_run

#endif // ATTN_TOOLS_ATTN_RUN_JIT_H
