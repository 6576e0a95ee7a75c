//===- RuntimeHooks.h - C library functions for compiled code ---*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTN_RUN_RUNTIMEHOOKS_H
#define ATTN_TOOLS_ATTN_RUN_RUNTIMEHOOKS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"

#include <cstdint>

namespace attn_run {

/// The function that `insertAllocationSizeChecks` makes compiled code call
/// before each malloc; its hook reports a size that overflows.
inline constexpr llvm::StringLiteral kCheckAllocationSize =
    "attn_run_check_allocation_size";

/// Returns the definitions that replace, for JIT-compiled code, the C
/// library's malloc, calloc, realloc, aligned_alloc, posix_memalign and free
/// (an allocation that fails prints `attn-run: error: out of memory: ...` and
/// exits with kExitError), puts and abort (the puts and abort of a failed
/// cf.assert print `attn-run: error: a run-time check of the compiled code
/// failed: MESSAGE` and exit with kExitRuntimeCheck), and
/// kCheckAllocationSize.
llvm::orc::SymbolMap getRuntimeHooks(llvm::orc::MangleAndInterner interner);

/// The heap buffers of the compiled code between `startAllocationLog` and
/// `stopAllocationLog`: every malloc, calloc, realloc, aligned_alloc and
/// posix_memalign it makes counts with the usable size of the block that it
/// gets (`malloc_usable_size`) until the code frees it. Thread-safe (the
/// OpenMP workers of the fused form allocate too). The OpenMP runtime's own
/// memory, thread stacks and stack buffers (memref.alloca) are not counted.
struct AllocationStats {
  /// The most bytes held at once by blocks that were freed before the stop:
  /// the temporaries of the call, beyond its inputs (which the caller owns)
  /// and its results (the blocks still held at the stop).
  int64_t peakTemporaryBytes = 0;
  /// The most bytes held at once, results included.
  int64_t peakBytes = 0;
  /// The bytes still held at the stop (after a call: its results).
  int64_t resultBytes = 0;
  /// The number of allocations.
  int64_t allocations = 0;
};
/// Starts recording the allocations and frees of the compiled code.
void startAllocationLog();
/// Stops recording and returns what was recorded.
AllocationStats stopAllocationLog();

/// Frees a block that the compiled code allocated (a result that it returned):
/// the compiled code's `free`, without the allocation log. Blocks of 32 MiB
/// or more live on huge pages, and up to 1 GiB of them is kept after free for
/// the next allocation of the same padded size (glibc keeps smaller blocks
/// in its heap; blocks this large it would map afresh, and every page would
/// fault and be cleared again in every call).
void freeCompiledBlock(void *pointer);

/// Prints to stdout what the compiled code's last `puts` held back (it is
/// held until the next `puts` or abort); call after each call of the code.
void flushRuntimeOutput();

/// memref.copy's `memrefCopy(elemSize, UnrankedMemRef *src, UnrankedMemRef
/// *dst)` for compiled code (MemrefCopy.cpp): the runs contiguous in both
/// memrefs as one memcpy each (MLIR's runner utils copy element by element).
extern "C" void attnRunMemrefCopy(int64_t elemSize, void *src, void *dst);

} // namespace attn_run

#endif // ATTN_TOOLS_ATTN_RUN_RUNTIMEHOOKS_H
