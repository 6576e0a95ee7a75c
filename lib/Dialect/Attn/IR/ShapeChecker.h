//===- ShapeChecker.h - Verifier helpers with uniform messages --*- C++ -*-===//
#ifndef ATTN_LIB_DIALECT_ATTN_IR_SHAPECHECKER_H
#define ATTN_LIB_DIALECT_ATTN_IR_SHAPECHECKER_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

namespace mlir {
namespace attn {

/// Checks operand shapes and types of one op, emitting errors that name the
/// operand, the dimension and both sizes. Each method succeeds when the fact
/// holds or cannot be decided statically (a dynamic size is checked at run
/// time).
class ShapeChecker {
public:
  explicit ShapeChecker(Operation *op) : op(op) {}

  /// `type` has rank `rank`; `layout` names its dims, e.g. "[B, H, Nq, D]".
  LogicalResult rank(StringRef name, ShapedType type, int64_t rank,
                     StringRef layout);
  /// The element type is f32, f16 or bf16.
  LogicalResult floatElements(StringRef name, ShapedType type);
  /// The element type is exactly `expected`.
  LogicalResult elementType(StringRef name, ShapedType type, Type expected);
  /// Dim `dim` (called `label`) is static.
  LogicalResult staticDim(StringRef name, ShapedType type, unsigned dim,
                          StringRef label);
  /// Dim `aDim` of `a` equals dim `bDim` of `b` when both are static.
  LogicalResult sameDim(StringRef label, StringRef aName, ShapedType a,
                        unsigned aDim, StringRef bName, ShapedType b,
                        unsigned bDim);
  /// `a` and `b` have one rank and equal sizes wherever both are static.
  LogicalResult compatibleShapes(StringRef aName, ShapedType a, StringRef bName,
                                 ShapedType b);
  /// Dim `dim` of `type` equals `expected` when both are static.
  LogicalResult dimIs(StringRef name, ShapedType type, unsigned dim,
                      StringRef label, int64_t expected, StringRef why);

private:
  Operation *op;
};

/// Returns whether `type` is f32, f16 or bf16.
bool isAttnFloat(Type type);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_IR_SHAPECHECKER_H
