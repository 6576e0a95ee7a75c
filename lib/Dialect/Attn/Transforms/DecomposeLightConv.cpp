//===- DecomposeLightConv.cpp - decomposition of attn.lightconv ----------------------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

using namespace mlir;
using namespace mlir::attn;

FailureOr<SmallVector<Value>> mlir::attn::decomposeLightConv(OpBuilder &b, LightConvOp op) {
  (void)b;
  return op.emitOpError("has no decomposition yet");
}
