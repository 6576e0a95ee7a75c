//===- AttnOpFormat.cpp - The attribute dictionary of the attn ops --------===//
#include "AttnOpFormat.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::attn;

/// The f32 attributes of the attn ops.
static constexpr StringLiteral kF32AttrNames[] = {"scale", "ramp", "max_span"};

void mlir::attn::convertF32Literals(NamedAttrList &attrs) {
  for (StringRef name : kF32AttrNames) {
    auto value = llvm::dyn_cast_or_null<FloatAttr>(attrs.get(name));
    if (!value || !value.getType().isF64())
      continue;
    APFloat converted = value.getValue();
    bool losesInfo = false;
    converted.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                      &losesInfo);
    if (converted.isInfinity() && !value.getValue().isInfinity())
      continue;
    attrs.set(name,
              FloatAttr::get(Float32Type::get(value.getContext()), converted));
  }
}

void mlir::attn::printAttrDictExcept(OpAsmPrinter &printer,
                                     DictionaryAttr attrs,
                                     DictionaryAttr defaults,
                                     ArrayRef<StringRef> printedElsewhere) {
  SmallVector<StringRef> elided = {"operandSegmentSizes"};
  llvm::append_range(elided, printedElsewhere);
  for (NamedAttribute attr : attrs)
    if (defaults && defaults.get(attr.getName()) == attr.getValue())
      elided.push_back(attr.getName().getValue());
  printer.printOptionalAttrDict(attrs.getValue(), elided);
}
