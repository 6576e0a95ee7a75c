//===- FuzzSupport.h - What the attn-fuzz target and mutator share -*- C++ -*-//
//
// The dialect registries, the filter for a known upstream crash, and the
// parser set-up that both the fuzz target and the structure-aware mutator use.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_FUZZ_FUZZSUPPORT_H
#define ATTN_FUZZ_FUZZSUPPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace attn_fuzz {

/// The dialects inputs are parsed with: attn and the upstream dialects its IR
/// is written with (arith, func, linalg, math, scf, tensor), not
/// registerAllDialects, so that the fuzzer does not wander into upstream
/// dialects.
const mlir::DialectRegistry &getRegistry();

/// The registry of attn-opt (every dialect, its interface models and
/// extensions), appended to the context before the pipelines run.
const mlir::DialectRegistry &getPipelineRegistry();

/// True when the input reaches a known upstream (MLIR 22) parser crash that
/// is not ours; see the definition. ATTN_FUZZ_NO_FILTER=1 turns it off.
bool hitsKnownUpstreamCrash(llvm::StringRef input);

/// Parses `input` (copied into a null-terminated buffer named `name`) as a
/// module, verifying it when `verify` is set. Diagnostics go to the context's
/// handler.
mlir::OwningOpRef<mlir::ModuleOp> parseInput(llvm::StringRef input,
                                             mlir::MLIRContext &context,
                                             bool verify, llvm::StringRef name);

} // namespace attn_fuzz

#endif // ATTN_FUZZ_FUZZSUPPORT_H
