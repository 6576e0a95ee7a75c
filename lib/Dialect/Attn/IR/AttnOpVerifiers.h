//===- AttnOpVerifiers.h - Checks shared by the attn ops --------*- C++ -*-===//
#ifndef ATTN_LIB_DIALECT_ATTN_IR_ATTNOPVERIFIERS_H
#define ATTN_LIB_DIALECT_ATTN_IR_ATTNOPVERIFIERS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include <optional>

namespace mlir {
namespace attn {

/// Checks Q [B, H, Nq, D], K [B, Hkv, Nk, D], V [B, Hkv, Nk, Dv] and the
/// destination [B, H, Nq, Dv] with V's element type, static D and Dv, and
/// H % Hkv == 0.
LogicalResult verifyQueryKeyValue(Operation *op, ShapedType q, ShapedType k,
                                  ShapedType v, ShapedType out);

/// Checks that a present scale is finite.
LogicalResult verifyOptionalScale(Operation *op, FloatAttr scale);

/// Checks Nq == Nk when both are static, for an op that is causal; `why`
/// says why the op needs it.
LogicalResult verifyCausalLengths(Operation *op, ShapedType q, ShapedType k,
                                  StringRef why);

/// Rejects a discardable attribute without a dialect prefix (such as
/// `{causal}` on attn.sdpa or a misspelt `{sacle = 0.5}`): the op does not
/// define it, and it would be ignored. The message lists the attributes the
/// op defines.
LogicalResult verifyDefinedAttributes(Operation *op);

/// Rejects an attribute `name` that the op does not have, saying why.
LogicalResult verifyNoAttribute(Operation *op, StringRef name, StringRef why);

class SdpaOp;
/// Checks attn.sdpa's block layout: blocks(%num, %idx) `[Bl, Hl, NQB]`,
/// `[Bl, Hl, NQB, K]` of i32 (Bl B or 1, Hl H or 1, NQB = ceil(Nq / BQ)),
/// full_blocks of the same form only with blocks, and block_size =
/// array<i64: BQ, BK> exactly with blocks.
LogicalResult verifyBlockLayout(SdpaOp op, ShapedType q);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_IR_ATTNOPVERIFIERS_H
