//===- DecomposeLsh.cpp - decomposition of attn.lsh ----------------------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

using namespace mlir;
using namespace mlir::attn;

FailureOr<SmallVector<Value>> mlir::attn::decomposeLsh(OpBuilder &b, LshOp op) {
  (void)b;
  return op.emitOpError("has no decomposition yet");
}
