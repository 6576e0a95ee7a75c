//===- PatternText.h - Text mutations of the attn pattern grammar -*- C++ -*-//
//
// Mutations of `#attn.` attributes as text, which apply whether or not the
// input parses: wrapping a pattern in a union or intersection, nesting it
// thousands deep, replacing it by a union of thousands of parts or a global
// pattern of a hundred thousand tokens, giving a block_sparse layout another
// type, changing parameters to edge values, and misspelling, dropping or
// repeating keywords. Large results are written by a generator (a loop that
// emits `#attn.union<[` N times), not grown byte by byte.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_FUZZ_PATTERNTEXT_H
#define ATTN_FUZZ_PATTERNTEXT_H

#include "Random.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attn_fuzz {

/// The [begin, end) ranges of every `#attn.` attribute in `text`: the
/// mnemonic and, when it follows, its balanced `<...>` body. Nested
/// attributes (the parts of a union) have ranges of their own.
std::vector<std::pair<size_t, size_t>> findAttnAttributes(llvm::StringRef text);

/// Appends a random pattern attribute, at most `depth` levels of union and
/// intersection deep, to `out`.
void generatePattern(Random &random, std::string &out, int depth);

/// Applies one pattern-grammar mutation to `text` and returns the result, or
/// nullopt when none applies. The result is at most `maxSize` bytes.
std::optional<std::string> mutatePatternText(llvm::StringRef text,
                                             Random &random, size_t maxSize);

/// A new module: a function with one attn.sdpa on small tensors (static or
/// dynamic lengths, f32, f16 or bf16) whose pattern is random, often large:
/// nested deep, of many parts or tokens, or a block_sparse with an odd
/// layout. Large patterns reach the pipelines only on such small modules.
std::optional<std::string> generateSdpaModule(Random &random, size_t maxSize);

/// Replaces a random `#attn.` attribute of `into` by one of `from`, or
/// returns nullopt when either has none or the result exceeds `maxSize`.
std::optional<std::string> crossOverPatterns(llvm::StringRef into,
                                             llvm::StringRef from,
                                             Random &random, size_t maxSize);

} // namespace attn_fuzz

#endif // ATTN_FUZZ_PATTERNTEXT_H
