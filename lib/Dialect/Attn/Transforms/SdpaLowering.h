//===- SdpaLowering.h - attn.sdpa as linalg, from its parts -----*- C++ -*-===//
//
// The reference lowering of attn.sdpa (SdpaToLinalg.cpp) works on the
// operands and attributes of the op collected in SdpaParts, so that a
// decomposition can also build attention directly in a compute type that
// attn.sdpa's own types do not allow (f64: attn-decompose{compute-type=f64}).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPALOWERING_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPALOWERING_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/Builders.h"

#include <functional>

namespace mlir {
namespace attn {
namespace detail {

/// Builds the modified score of one pair inside a linalg.generic body:
/// (score in the compute type, b, h, qpos_i, kpos_j as index) -> the new
/// score in the compute type.
using ScoreModBuilder = std::function<Value(OpBuilder &, Location, Value, Value,
                                            Value, Value, Value)>;

/// Builds the liveness of one pair under mask_mod inside a linalg.generic
/// body: (b, h, qpos_i, kpos_j as index) -> i1.
using MaskModBuilder =
    std::function<Value(OpBuilder &, Location, Value, Value, Value, Value)>;

/// The run-time block layout of attn.sdpa (`blocks`, `full_blocks`), or none
/// (null `num`).
struct BlockLayout {
  /// `[Bl, Hl, NQB]` and `[Bl, Hl, NQB, K]` i32.
  Value num, indices;
  /// The same for the full blocks, or null.
  Value fullNum, fullIndices;
  int64_t blockQ = 0, blockK = 0;
  explicit operator bool() const { return static_cast<bool>(num); }
};

/// The operands and attributes of one attention, as attn.sdpa has them; the
/// tensors may have any float element type (they are converted to the compute
/// type as they are read).
struct SdpaParts {
  Value query, key, value, init;
  Value mask, bias, memoryKey, memoryValue, queryPositions, keyPositions, span;
  /// Document ids `[B, Nq]` and `[B, Nk]`, or null.
  Value querySegments, keySegments;
  /// `#attn.dense` when null.
  PatternAttrInterface pattern;
  float scale;
  FloatAttr ramp, maxSpan;
  /// No score_mod when empty.
  ScoreModBuilder scoreMod;
  /// No mask_mod when empty.
  MaskModBuilder maskMod;
  BlockLayout layout;
  /// The type of the lse result (any float element type), or null for none.
  RankedTensorType lseType;
};

/// Emits the run-time checks of the document ids `qseg` `[B, Nq]` and `kseg`
/// `[B, Nk]` against `q` and `k` (nothing when `qseg` is null).
void assertSegmentSizes(OpBuilder &b, Location loc, Value q, Value k,
                        Value qseg, Value kseg);

/// The block layout of `op` (none without `blocks`).
BlockLayout getBlockLayout(SdpaOp op);

/// Emits the run-time checks of `layout` against `q`: Bl is B or 1, Hl is H
/// or 1, NQB = ceil(Nq / BQ), both lists of one shape of counts.
void assertBlockLayoutSizes(OpBuilder &b, Location loc,
                            const BlockLayout &layout, Value q);

/// The row (bl, hl) of the layout that batch `bIdx` and head `hIdx` read
/// (0 where the layout has one batch or one head).
std::pair<Value, Value> layoutRow(OpBuilder &b, Location loc,
                                  const BlockLayout &layout, Value bIdx,
                                  Value hIdx);

/// The number of entries of the row (bl, hl, qb) of a list: its count
/// clamped to [0, K] (index).
Value listedCount(OpBuilder &b, Location loc, Value num, Value indices,
                  ValueRange row);

/// K of the full list (index), 0 without one: a partial entry e is numbered
/// `fullListLength + e` in the owner map.
Value fullListLength(OpBuilder &b, Location loc, const BlockLayout &layout);

/// The owner map `[Bl, Hl, NQB, numKeyBlocks]` i32 of `layout`: for each key
/// block of a query block, the number of the first entry that lists it
/// (full entries e as e, then partial entries e as fullListLength + e), or
/// -1 where none does. Entries outside [0, numKeyBlocks) are ignored. Built
/// once per call; a listed block is visited by its owner entry only, so a
/// block listed twice counts once.
Value buildBlockOwners(OpBuilder &b, Location loc, const BlockLayout &layout,
                       Value numKeyBlocks);

/// Clones the ops of a score_mod or mask_mod `block` at `nb` with its
/// arguments bound to `args`; returns the yielded value.
Value inlineModRegion(OpBuilder &nb, Block &block, ValueRange args);

/// The parts of `op`; its score_mod and mask_mod regions, if any, are cloned
/// by `scoreMod` and `maskMod`.
SdpaParts getSdpaParts(SdpaOp op);

/// Builds the reference lowering of the attention `parts` in `computeType`
/// (f32 or f64) at the builder's insertion point. Returns the result (in the
/// element type of `parts.init`) and, with an lseType, the lse.
SmallVector<Value> buildSdpaLinalg(OpBuilder &b, Location loc,
                                   const SdpaParts &parts,
                                   FloatType computeType);

} // namespace detail
} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_SDPALOWERING_H
