//===- RuntimeHooks.h - C library functions for compiled code ---*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTN_RUN_RUNTIMEHOOKS_H
#define ATTN_TOOLS_ATTN_RUN_RUNTIMEHOOKS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"

namespace attn_run {

/// The function that `insertAllocationSizeChecks` makes compiled code call
/// before each malloc; its hook reports a size that overflows.
inline constexpr llvm::StringLiteral kCheckAllocationSize =
    "attn_run_check_allocation_size";

/// Returns the definitions that replace, for JIT-compiled code, the C
/// library's malloc, calloc, realloc, aligned_alloc and posix_memalign (an
/// allocation that fails prints `attn-run: error: out of memory: ...` and
/// exits with kExitError), puts and abort (the puts and abort of a failed
/// cf.assert print `attn-run: error: a run-time check of the compiled code
/// failed: MESSAGE` and exit with kExitRuntimeCheck), and
/// kCheckAllocationSize.
llvm::orc::SymbolMap getRuntimeHooks(llvm::orc::MangleAndInterner interner);

/// Prints to stdout what the compiled code's last `puts` held back (it is
/// held until the next `puts` or abort); call after each call of the code.
void flushRuntimeOutput();

} // namespace attn_run

#endif // ATTN_TOOLS_ATTN_RUN_RUNTIMEHOOKS_H
