//===- AttnOpFormat.h - The attribute dictionary of the attn ops -*- C++ -*-===//
//
// The custom directive `custom<AttnAttrDict>(attr-dict, "OpTag<XOp>()", ...)`
// that the attn ops use in place of `attr-dict`. It parses and prints the
// same `{...}` dictionary, and also accepts an untyped float literal for an
// f32 attribute (`{scale = 0.125}` as well as `{scale = 0.125 : f32}`).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_LIB_DIALECT_ATTN_IR_ATTNOPFORMAT_H
#define ATTN_LIB_DIALECT_ATTN_IR_ATTNOPFORMAT_H

#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <type_traits>

namespace mlir {
namespace attn {

/// Names the op whose attribute dictionary a custom directive handles.
template <typename OpT>
struct OpTag {};

/// Rewrites the untyped float literals (parsed as f64) of the f32 attributes
/// `scale`, `ramp` and `max_span` into f32 attributes. A value that f32
/// cannot hold (it would round to infinity) is left as it is, so that the
/// attribute constraint reports it.
void convertF32Literals(NamedAttrList &attrs);

/// Prints `attrs` as `{...}` (with a leading space, nothing when empty),
/// leaving out `operandSegmentSizes`, the names in `printedElsewhere`, and
/// every attribute whose value equals the one in `defaults`.
void printAttrDictExcept(OpAsmPrinter &printer, DictionaryAttr attrs,
                         DictionaryAttr defaults,
                         ArrayRef<StringRef> printedElsewhere);

namespace detail {
template <typename OpT>
using PopulateDefaultProperties = decltype(OpT::populateDefaultProperties(
    std::declval<OperationName>(),
    std::declval<typename OpT::Properties &>()));
} // namespace detail

/// Returns the values that ODS gives the default-valued attributes of `OpT`
/// when they are absent (the printer leaves such values out).
template <typename OpT>
DictionaryAttr getDefaultAttrs(MLIRContext *ctx) {
  typename OpT::Properties properties;
  if constexpr (llvm::is_detected<detail::PopulateDefaultProperties,
                                  OpT>::value)
    OpT::populateDefaultProperties(
        OperationName(OpT::getOperationName(), ctx), properties);
  return llvm::dyn_cast_or_null<DictionaryAttr>(
      OpT::getPropertiesAsAttr(ctx, properties));
}

/// Parses the optional `{...}` attribute dictionary of `OpT`, reading untyped
/// float literals of its f32 attributes as f32, then checks the inherent
/// attributes against their constraints, as `attr-dict` does.
template <typename OpT>
ParseResult parseAttnAttrDict(OpAsmParser &parser, NamedAttrList &attrs,
                              OpTag<OpT>,
                              ArrayRef<StringRef> printedElsewhere = {}) {
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseOptionalAttrDict(attrs))
    return failure();
  convertF32Literals(attrs);
  OperationName name(OpT::getOperationName(), parser.getContext());
  return name.verifyInherentAttrs(attrs, [&] {
    return parser.emitError(loc) << "'" << name.getStringRef() << "' op ";
  });
}

/// Prints the attribute dictionary of `op` as `attr-dict` would.
template <typename OpT>
void printAttnAttrDict(OpAsmPrinter &printer, OpT op, DictionaryAttr attrs,
                       OpTag<OpT>, ArrayRef<StringRef> printedElsewhere = {}) {
  printAttrDictExcept(printer, attrs, getDefaultAttrs<OpT>(op.getContext()),
                      printedElsewhere);
}

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_IR_ATTNOPFORMAT_H
