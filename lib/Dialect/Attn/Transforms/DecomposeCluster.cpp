//===- DecomposeCluster.cpp - decomposition of attn.cluster ----------------------===//
#include "attn/Dialect/Attn/Transforms/BuildUtils.h"
#include "attn/Dialect/Attn/Transforms/Decompositions.h"

using namespace mlir;
using namespace mlir::attn;

FailureOr<SmallVector<Value>> mlir::attn::decomposeCluster(OpBuilder &b, ClusterOp op) {
  (void)b;
  return op.emitOpError("has no decomposition yet");
}
