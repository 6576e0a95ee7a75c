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
  /// The type of the lse result (any float element type), or null for none.
  RankedTensorType lseType;
};

/// Emits the run-time checks of the document ids `qseg` `[B, Nq]` and `kseg`
/// `[B, Nk]` against `q` and `k` (nothing when `qseg` is null).
void assertSegmentSizes(OpBuilder &b, Location loc, Value q, Value k,
                        Value qseg, Value kseg);

/// The parts of `op`; its score_mod region, if any, is cloned by `scoreMod`.
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
