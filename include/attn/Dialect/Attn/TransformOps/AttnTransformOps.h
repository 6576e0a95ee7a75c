//===- AttnTransformOps.h - transform.attn.* and sdpa tiling ----*- C++ -*-===//
//
// The transform-dialect extension of the attn dialect (decompose, tile to
// the flash form, lower to linalg, prepare the tile loops, lower to the CPU)
// and the TilingInterface model of attn.sdpa. docs/Embedding.md describes
// both; tools register them with the two functions below.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMOPS_ATTNTRANSFORMOPS_H
#define ATTN_DIALECT_ATTN_TRANSFORMOPS_ATTNTRANSFORMOPS_H

#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/Interfaces/TransformInterfaces.h"
#include "mlir/IR/OpImplementation.h"

namespace mlir {
class DialectRegistry;
namespace attn {
/// Registers the transform.attn.* ops with the transform dialect.
void registerTransformDialectExtension(DialectRegistry &registry);
/// Attaches TilingInterface to attn.sdpa (tiling over batch, query head and
/// query; `transform.structured.tile_using_for` / `tile_using_forall`).
void registerSdpaTilingInterface(DialectRegistry &registry);
} // namespace attn
} // namespace mlir

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/TransformOps/AttnTransformOps.h.inc"

#endif // ATTN_DIALECT_ATTN_TRANSFORMOPS_ATTNTRANSFORMOPS_H
