//===- ExitCodes.h - Exit codes of attn-run ---------------------*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTN_RUN_EXITCODES_H
#define ATTN_TOOLS_ATTN_RUN_EXITCODES_H

namespace attn_run {

/// An error: one `attn-run: error:` line (and MLIR diagnostics) on stderr.
inline constexpr int kExitError = 1;
/// --check found a result above its bound.
inline constexpr int kExitCheckFailed = 2;
/// A run-time check (cf.assert) of the compiled code failed.
inline constexpr int kExitRuntimeCheck = 3;

} // namespace attn_run

#endif // ATTN_TOOLS_ATTN_RUN_EXITCODES_H
