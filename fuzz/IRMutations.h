//===- IRMutations.h - Mutations of parsed IR and generic form --*- C++ -*-===//
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

/// The mutations of a parsed module.
enum class IRMutation {
  /// Adds an attribute that an attn op does not define.
  Attribute,
  /// Adds a score_mod to an attn.sdpa or a step to its body.
  ScoreMod,
  /// Prints the module in the generic form, maybe changing segment sizes.
  Generic,
};

/// Parses `text` (unverified) and applies one mutation to the module, the
/// given one or a random one. Returns the printed module, or nullopt when the
/// text does not parse, is too large or too deep to parse safely here, or the
/// mutation does not apply.
std::optional<std::string>
mutateParsedIR(llvm::StringRef text, Random &random, size_t maxSize,
               std::optional<IRMutation> mutation = std::nullopt);

/// Changes one `operandSegmentSizes` (or `resultSegmentSizes`) array of the
/// generic form: moves a value from one segment to another (a mandatory
/// operand gets 0 or 2), sets one out of range, or drops or adds an entry.
std::optional<std::string> mutateSegmentSizes(llvm::StringRef text,
                                              Random &random);

} // namespace attn_fuzz

#endif // ATTN_FUZZ_IRMUTATIONS_H
