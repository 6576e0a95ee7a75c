//===- AllocChecks.h - Overflow checks of buffer sizes ----------*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTN_RUN_ALLOCCHECKS_H
#define ATTN_TOOLS_ATTN_RUN_ALLOCCHECKS_H

#include "mlir/IR/BuiltinOps.h"

namespace attn_run {

/// Before every `malloc` of lowered code (LLVM dialect) whose size is the
/// memref lowering's `ptrtoint(getelementptr null[d0 * d1 * ...]) + pad`,
/// inserts a call of `checkFunction(i64 overflowed)` with 1 when the size in
/// bytes overflows 64 bits. The lowering's own product wraps around silently,
/// so that a huge shape (dims of empty arrays, for example) would get a small
/// buffer and the code would write past it; the check function reports it
/// instead.
void insertAllocationSizeChecks(mlir::ModuleOp module,
                                llvm::StringRef checkFunction);

} // namespace attn_run

#endif // ATTN_TOOLS_ATTN_RUN_ALLOCCHECKS_H
