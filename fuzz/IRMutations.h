//===- IRMutations.h - Mutations of parsed attn IR and generic form -*- C++ -*-//
//
// Mutations that need the parsed module: attributes that do not exist on an
// attn op (misspelt inherent names, other ops' attributes, made-up and
// dialect-prefixed names), score_mod bodies with ops that verify but may not
// lower (scf.if, scf.for, math.erf, ...), and printing in the generic form;
// and a text mutation of the generic form's operandSegmentSizes.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_FUZZ_IRMUTATIONS_H
#define ATTN_FUZZ_IRMUTATIONS_H

#include "Random.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace attn_fuzz {

/// Parses `text` (unverified) and applies one mutation to the module: adds
/// an attribute to an attn op, extends or adds an attn.sdpa score_mod, or
/// just prints it in the generic form (then maybe mutating its segment
/// sizes). Returns the printed module, or nullopt when the text does not
/// parse, is too large or too deep to parse safely here, or nothing applies.
std::optional<std::string> mutateParsedIR(llvm::StringRef text, Random &random,
                                          size_t maxSize);

/// Changes one `operandSegmentSizes` (or `resultSegmentSizes`) array of the
/// generic form: moves a value from one segment to another (a mandatory
/// operand gets 0 or 2), sets one out of range, or drops or adds an entry.
std::optional<std::string> mutateSegmentSizes(llvm::StringRef text,
                                              Random &random);

} // namespace attn_fuzz

#endif // ATTN_FUZZ_IRMUTATIONS_H
