//===- Jit.h - Compile an entry function and call it ------------*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTN_RUN_JIT_H
#define ATTN_TOOLS_ATTN_RUN_JIT_H

#include "Npy.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <memory>

namespace attn_run {

/// Lowers a clone of `module` with `attn-cpu-pipeline{mode compute-type}`
/// (with `target` "cuda": `attn-gpu-pipeline`, whose host code calls the
/// mgpu* functions of runtime/, registered in the JIT), giving `entry` a C
/// interface, and JIT-compiles it at -O2. Diagnostics go
/// to the context's handler; failure means they were printed.
///
/// Every size that the compiled code passes to malloc is checked for
/// overflow (`insertAllocationSizeChecks`), and its C library calls go to
/// `getRuntimeHooks`: a failed allocation or cf.assert is an `attn-run:
/// error:` and an exit, not a crash.
/// `vectorWidth` is the f32 lanes of the fused pipeline's micro-kernels; 0
/// picks them from the host (16 with AVX-512, 8 with AVX, else 4).
/// `bf16Isa` is the pipeline's `bf16-isa`; "auto" picks, at 16 lanes, "amx" on
/// a host with amx_bf16 (requesting the tile state from Linux), "avx512bf16"
/// on one with avx512_bf16 and no AMX, else "none".
mlir::FailureOr<std::unique_ptr<mlir::ExecutionEngine>>
compileModule(mlir::ModuleOp module, llvm::StringRef entry,
              llvm::StringRef mode, llvm::StringRef computeType,
              llvm::StringRef target = "cpu", int64_t vectorWidth = 0,
              llvm::StringRef bf16Isa = "auto");

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
