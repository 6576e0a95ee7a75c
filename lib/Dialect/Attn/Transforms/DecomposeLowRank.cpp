//===- DecomposeLowRank.cpp - decomposition of attn.lowrank ----------------------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

using namespace mlir;
using namespace mlir::attn;

FailureOr<SmallVector<Value>> mlir::attn::decomposeLowRank(OpBuilder &b, LowRankOp op) {
  (void)b;
  return op.emitOpError("has no decomposition yet");
}
