//===- ShapeChecker.cpp - Verifier helpers with uniform messages ----------===//
#include "ShapeChecker.h"

using namespace mlir;
using namespace mlir::attn;

bool mlir::attn::isAttnFloat(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

/// Prints a size, `?` for a dynamic one.
static std::string sizeString(int64_t size) {
  return ShapedType::isDynamic(size) ? "?" : std::to_string(size);
}

LogicalResult ShapeChecker::rank(StringRef name, ShapedType type, int64_t rank,
                                 StringRef layout) {
  if (type.getRank() == rank)
    return success();
  return op->emitOpError() << "expects " << name << " of rank " << rank << " "
                           << layout << ", but got " << type;
}

LogicalResult ShapeChecker::floatElements(StringRef name, ShapedType type) {
  if (isAttnFloat(type.getElementType()))
    return success();
  return op->emitOpError() << "expects " << name
                           << " to have element type f32, f16 or bf16, but got "
                           << type.getElementType();
}

LogicalResult ShapeChecker::elementType(StringRef name, ShapedType type,
                                        Type expected) {
  if (type.getElementType() == expected)
    return success();
  return op->emitOpError() << "expects " << name << " to have element type "
                           << expected << ", but got " << type.getElementType();
}

LogicalResult ShapeChecker::staticDim(StringRef name, ShapedType type,
                                      unsigned dim, StringRef label) {
  if (!type.isDynamicDim(dim))
    return success();
  return op->emitOpError() << "expects " << name << " dim " << label << " (dim "
                           << dim << ") to be static, but got " << type;
}

LogicalResult ShapeChecker::sameDim(StringRef label, StringRef aName,
                                    ShapedType a, unsigned aDim,
                                    StringRef bName, ShapedType b,
                                    unsigned bDim) {
  int64_t x = a.getDimSize(aDim), y = b.getDimSize(bDim);
  if (ShapedType::isDynamic(x) || ShapedType::isDynamic(y) || x == y)
    return success();
  return op->emitOpError() << "expects " << label << " of " << aName << " ("
                           << x << ") to match " << label << " of " << bName
                           << " (" << y << ")";
}

LogicalResult ShapeChecker::dimIs(StringRef name, ShapedType type, unsigned dim,
                                  StringRef label, int64_t expected,
                                  StringRef why) {
  int64_t size = type.getDimSize(dim);
  if (ShapedType::isDynamic(size) || ShapedType::isDynamic(expected) ||
      size == expected)
    return success();
  return op->emitOpError() << "expects " << name << " dim " << label
                           << " to be " << sizeString(expected) << " (" << why
                           << "), but got " << size;
}

LogicalResult ShapeChecker::compatibleShapes(StringRef aName, ShapedType a,
                                             StringRef bName, ShapedType b) {
  bool compatible = a.getRank() == b.getRank();
  for (int64_t d = 0; compatible && d < a.getRank(); ++d)
    compatible = a.isDynamicDim(d) || b.isDynamicDim(d) ||
                 a.getDimSize(d) == b.getDimSize(d);
  if (compatible)
    return success();
  return op->emitOpError() << "expects " << aName << " " << a
                           << " to have the shape of " << bName << " " << b;
}
