//===- PatternSyntax.h - Parsing and printing pattern parameters -*- C++ -*-===//
#ifndef ATTN_LIB_DIALECT_ATTN_IR_PATTERNSYNTAX_H
#define ATTN_LIB_DIALECT_ATTN_IR_PATTERNSYNTAX_H

#include "mlir/IR/DialectImplementation.h"

namespace mlir {
namespace attn {

/// One `name = value` parameter of a pattern attribute's syntax.
struct PatternParam {
  /// The name written before `=`.
  StringRef name;
  /// Parses the value after `=`.
  function_ref<ParseResult()> parseValue;
  /// Whether the attribute needs the parameter (the others have defaults).
  bool required = true;
};

/// Parses `<name = value, ...>`, the parameters of `#attn.<mnemonic>`, in any
/// order. A parameter that is unknown, given twice, or required and missing
/// is an error that names it and lists the parameters of the attribute.
ParseResult parsePatternParams(AsmParser &parser, StringRef mnemonic,
                               ArrayRef<PatternParam> params);

/// Parses `<a = 1, b = 2>` into `values`, in the order of `names`; every
/// parameter is a required integer (`Attn_IntParamsPatternAttr`).
ParseResult parseIntParams(AsmParser &parser, StringRef mnemonic,
                           ArrayRef<StringRef> names,
                           SmallVectorImpl<int64_t> &values);

/// Prints `<a = 1, b = 2>`.
void printIntParams(AsmPrinter &printer, ArrayRef<StringRef> names,
                    ArrayRef<int64_t> values);

} // namespace attn
} // namespace mlir

#endif // ATTN_LIB_DIALECT_ATTN_IR_PATTERNSYNTAX_H
