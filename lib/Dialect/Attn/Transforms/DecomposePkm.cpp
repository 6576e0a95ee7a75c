//===- DecomposePkm.cpp - decomposition of attn.pkm ----------------------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

using namespace mlir;
using namespace mlir::attn;

FailureOr<SmallVector<Value>> mlir::attn::decomposePkm(OpBuilder &b, PkmOp op) {
  (void)b;
  return op.emitOpError("has no decomposition yet");
}
