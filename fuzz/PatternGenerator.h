//===- PatternGenerator.h - Random attn pattern attributes as text -*- C++ -*-//
//
// Writers of random `#attn.` pattern attributes, used by the pattern-grammar
// mutations (PatternText.h) and for fresh modules.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_FUZZ_PATTERNGENERATOR_H
#define ATTN_FUZZ_PATTERNGENERATOR_H

#include "Random.h"

#include <cstdint>
#include <string>

namespace attn_fuzz {

/// Appends a random pattern attribute, at most `depth` levels of union and
/// intersection deep, to `out`; parameters mostly small, sometimes at edges.
void generatePattern(Random &random, std::string &out, int depth);

/// Appends a layout for `#attn.block_sparse`: mostly a splat of an elements
/// attribute of a ranked i1 tensor, else a vector (maybe scalable), a memref,
/// another rank or element type, or another kind of attribute.
void appendLayout(Random &random, std::string &out);

/// Appends `#attn.block_sparse<block = [...], layout = ...>`.
void appendBlockSparse(Random &random, std::string &out);

/// How the tokens of a global pattern are drawn: ascending, descending,
/// small and repeated, or edge values (up to 22 bytes each with ", ").
enum class TokenStyle { Ascending, Descending, Small, Edges };

/// Appends `#attn.global<...>` with `count` tokens and maybe `first`.
void appendGlobal(Random &random, std::string &out, int64_t count,
                  TokenStyle style);

/// The number of families of appendDistinctPart.
constexpr int kDistinctPartFamilies = 6;

/// Appends part `index` of a family of pairwise distinct parts: window bands
/// that never merge (0), causal offsets that all merge (1), strides (2),
/// block sizes (3), global prefixes (4), random seeds (5).
void appendDistinctPart(std::string &out, int family, int64_t index);

} // namespace attn_fuzz

#endif // ATTN_FUZZ_PATTERNGENERATOR_H
