//===- CpuMicroKernels.h - Vector code for the flash form's tiles -*- C++ -*-===//
//
// Pieces of attn-cpu-microkernels (CpuMicroKernels.cpp has the pass and the
// contraction kernels).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_CPUMICROKERNELS_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_CPUMICROKERNELS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace attn {

/// Rewrites a 2-D linalg.generic on buffers whose operands are tiles
/// (indexed (i, j), unit inner stride) or rows (indexed (i)), with
/// iterators (parallel, parallel) writing tiles or (parallel, reduction)
/// writing rows through max / min / add, and whose body is element-wise
/// scalar ops (and linalg.index), into per-row loops over vectors of `width`
/// lanes (the last one masked). Fails, leaving `op` alone, on anything else.
LogicalResult vectorizeRowGeneric(RewriterBase &rewriter, linalg::GenericOp op,
                                  int64_t width);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_CPUMICROKERNELS_H
