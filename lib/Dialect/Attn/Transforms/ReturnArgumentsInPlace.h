//===- ReturnArgumentsInPlace.h - Entries return their outs -*- C++ -*-===//
//
// The CPU pipeline's step after the ownership-based buffer deallocation:
// an entry that returns a buffer it was given (an outs operand written in
// place) returns it as it is, instead of the deallocation's clone of it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_RETURNARGUMENTSINPLACE_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_RETURNARGUMENTSINPLACE_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlir {
namespace attn {

/// The pass (`attn-return-arguments-in-place`, on a module): in every public
/// function that no op of the module calls, a result `bufferization.clone
/// %arg` of an argument, followed only by deallocations up to the return,
/// becomes `%arg` itself. The caller then gets its own buffer back as the
/// result (its `allocated` pointer is the argument's), which it must not
/// free twice.
std::unique_ptr<Pass> createReturnArgumentsInPlacePass();

/// Registers the pass with attn-opt.
void registerReturnArgumentsInPlacePass();

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_RETURNARGUMENTSINPLACE_H
