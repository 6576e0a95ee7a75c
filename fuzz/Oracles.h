//===- Oracles.h - Semantic checks of the attn-fuzz target ------*- C++ -*-===//
//
// Checks beyond "does not crash" that the fuzz target applies to inputs that
// verify and to what the pipelines make of them. Each returns a description
// of what is wrong, or an empty string.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_FUZZ_ORACLES_H
#define ATTN_FUZZ_ORACLES_H

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace attn_fuzz {

/// An attribute on an attn op that the op does not define and that has no
/// dialect prefix (`{causal}` or `{sacle = 0.5 : f32}` on attn.sdpa): the
/// verifier must reject it rather than ignore it.
std::string findUnknownAttnAttribute(mlir::ModuleOp module);

/// An attn op whose operandSegmentSizes (the generic form's) give an operand
/// other than one value, or an optional operand more than one: attn ops have
/// no variadic operands, and attn.sdpa's first four are mandatory. The
/// verifier must reject such sizes; the custom form cannot even state them.
std::string findMalformedSegments(mlir::ModuleOp module);

/// True when, outside attn op regions, the module holds only functions,
/// returns, arith.constant, tensor.empty and attn ops, and with `sdpaOnly`
/// no attn op but attn.sdpa. attn-cpu-pipeline must lower all of such a
/// module to the LLVM dialect; an sdpa-only module must not fail to lower
/// (the decompositions of the other ops may refuse some shapes, with a
/// diagnostic).
bool isAttnModule(mlir::ModuleOp module, bool sdpaOnly);

/// An op left in the module that is in neither the llvm nor the omp dialect
/// (the fused pipeline's parallel loop, which LLVM IR translation takes).
std::string findNonLLVMOp(mlir::ModuleOp module);

/// An attn op left in the module.
std::string findAttnOp(mlir::ModuleOp module);

} // namespace attn_fuzz

#endif // ATTN_FUZZ_ORACLES_H
