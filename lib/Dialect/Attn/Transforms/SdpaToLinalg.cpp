//===- SdpaToLinalg.cpp - attn.sdpa to linalg (the reference path) --------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

using namespace mlir;
using namespace mlir::attn;

FailureOr<SmallVector<Value>>
mlir::attn::lowerSdpaToLinalg(OpBuilder &b, SdpaOp op, FloatType computeType) {
  return op.emitOpError("lowering not written yet");
}
