//===- Inputs.h - Entry signature, inputs and shape checks ------*- C++ -*-===//
#ifndef ATTN_TOOLS_ATTN_RUN_INPUTS_H
#define ATTN_TOOLS_ATTN_RUN_INPUTS_H

#include "Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>
#include <string>

namespace attn_run {

/// A ranked tensor argument or result of the entry function.
struct TensorSlot {
  /// The SSA name without '%' for arguments ("q"), "result<i>" for results.
  std::string name;
  mlir::RankedTensorType type;
  ElementKind kind;
};

/// The entry function and what attn-run needs to call it.
struct EntrySignature {
  mlir::func::FuncOp func;
  std::string entry;
  llvm::SmallVector<TensorSlot> args;
  llvm::SmallVector<TensorSlot> results;
};

/// Returns the element kind of `type`, if attn-run supports it.
std::optional<ElementKind> getElementKind(mlir::Type type);

/// Builds the signature of `func`, naming the arguments `argNames`. Prints an
/// error and fails on an argument or result that is not a ranked tensor of a
/// supported element type.
mlir::FailureOr<EntrySignature>
getEntrySignature(mlir::func::FuncOp func,
                  llvm::ArrayRef<std::string> argNames);

/// Options of random inputs.
struct RandomOptions {
  uint64_t seed = 0;
  int64_t dynamicDimSize = 64;
};

/// Loads the inputs: `specs` are "NAME=FILE.npy" or "POSITION=FILE.npy";
/// arguments without one are random when `random` is set. Every mismatch is
/// an error (printed) naming the file and the argument.
mlir::FailureOr<llvm::SmallVector<HostArray>>
loadInputs(const EntrySignature &signature, llvm::ArrayRef<std::string> specs,
           const std::optional<RandomOptions> &random);

/// Specialises a clone of `module` to the shapes of `inputs`, folds the casts
/// into the ops and verifies it. Returns the clone, or null after printing
/// the verifier's diagnostics.
mlir::OwningOpRef<mlir::ModuleOp>
specializeToInputs(mlir::ModuleOp module, llvm::StringRef entry,
                   llvm::ArrayRef<HostArray> inputs);

} // namespace attn_run

#endif // ATTN_TOOLS_ATTN_RUN_INPUTS_H
