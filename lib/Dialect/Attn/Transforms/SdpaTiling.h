//===- SdpaTiling.h - Tiles of attn.sdpa ------------------------*- C++ -*-===//
//
// Shared by the TilingInterface model (SdpaTiling.cpp), the tile builder
// (SdpaTile.cpp) and the split-KV PartialReductionOpInterface model
// (SdpaSplitKv.cpp) of attn.sdpa.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPATILING_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPATILING_H

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir {
namespace attn {
namespace detail {

/// Offsets and sizes of one tile of the iteration domain (batch, head,
/// query, key), with the KV-head range that its head range reads.
struct SdpaTile {
  OpFoldResult b, h, q, k;     // offsets
  OpFoldResult sb, sh, sq, sk; // sizes
  OpFoldResult kvh, skv;       // KV-head offset and size
};

/// A tiled attn.sdpa and the extract_slice ops that feed it.
struct SdpaTileOp {
  SdpaOp op;
  SmallVector<Operation *> slices;
};

/// Builds the attn.sdpa of the tile at `offsets` / `sizes` (four dims) of
/// `op`'s iteration domain at the builder's insertion point. With
/// `keySplit` the tile is one key split of a partial reduction (split-KV):
/// it has an lse result even if `op` has none, and no memory (the merge adds
/// the memory keys once, see buildSdpaMemoryPart). Fails with a diagnostic
/// on `op` when the tile cannot be one attn.sdpa.
FailureOr<SdpaTileOp> buildSdpaTile(OpBuilder &b, SdpaOp op,
                                    ArrayRef<OpFoldResult> offsets,
                                    ArrayRef<OpFoldResult> sizes,
                                    bool keySplit);

/// The attention of every query of `op` (which has memory) over its memory
/// keys alone, with an lse result: `op` on zero keys, without the operands
/// and attributes that only touch the keys (mask, bias, positions, span,
/// segments, pattern, score_mod), which the memory keys ignore.
FailureOr<SdpaOp> buildSdpaMemoryPart(OpBuilder &b, SdpaOp op);

/// Whether [offset, offset + size) is all of dim `dim` of `tensor`
/// (statically: a constant, or a tensor.dim of that dim).
bool isWhole(OpFoldResult offset, OpFoldResult size, Value tensor, int64_t dim);

/// Attaches PartialReductionOpInterface (split-KV) to attn.sdpa.
void attachSdpaPartialReduction(MLIRContext &ctx);

/// The sizes of `value`'s dims.
inline SmallVector<OpFoldResult> dims(OpBuilder &b, Location loc, Value value) {
  return tensor::getMixedSizes(b, loc, value);
}

inline Value toValue(OpBuilder &b, Location loc, OpFoldResult ofr) {
  return getValueOrCreateConstantIndexOp(b, loc, ofr);
}

} // namespace detail
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPATILING_H
