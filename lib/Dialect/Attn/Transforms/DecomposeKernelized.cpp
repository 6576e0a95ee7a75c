//===- DecomposeKernelized.cpp - decomposition of attn.kernelized ----------------------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

using namespace mlir;
using namespace mlir::attn;

FailureOr<SmallVector<Value>> mlir::attn::decomposeKernelized(OpBuilder &b, KernelizedOp op) {
  (void)b;
  return op.emitOpError("has no decomposition yet");
}
