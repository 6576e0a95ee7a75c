//===- Mutator.cpp - The structure-aware mutator of attn-fuzz -------------===//
//
// libFuzzer's custom mutator hooks. Half of the mutations are libFuzzer's own
// byte-level ones (LLVMFuzzerMutate, with the dictionary); the other half are
// structural (PatternText.h, IRMutations.h):
//   * the pattern grammar as text, whether or not the input parses: wrap,
//     nest thousands deep, widen to tens of thousands of parts, hundreds of
//     thousands of global tokens, layouts of other types, edge parameters,
//     misspelt, dropped and repeated keywords; rarely, a fresh module of one
//     attn.sdpa on small tensors with such a pattern;
//   * the parsed module: attributes that do not exist on attn ops, score_mod
//     bodies with scf.if, scf.for, math.erf and friends, the generic form and
//     its operandSegmentSizes.
// The cross-over hook swaps pattern attributes between two inputs.
// ATTN_FUZZ_MUTATOR=plain turns all of this off (byte-level mutations only).
//
// ATTN_FUZZ_SHOW_MUTATIONS=N makes attn-fuzz print N structural mutations of
// each input file named on the command line and exit, to see what the
// mutator does (with ATTN_FUZZ_SHOW_DIR=DIR, each is also written whole to
// DIR/<file name>.<seed>):
//   ATTN_FUZZ_SHOW_MUTATIONS=5 build-fuzz/bin/attn-fuzz fuzz/seeds/x.mlir
//
//===----------------------------------------------------------------------===//

#include "IRMutations.h"
#include "PatternText.h"
#include "Random.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

using namespace attn_fuzz;
using llvm::StringRef;

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

/// False under ATTN_FUZZ_MUTATOR=plain.
static bool isStructureAware() {
  static const bool aware = [] {
    const char *mode = std::getenv("ATTN_FUZZ_MUTATOR");
    return !mode || StringRef(mode) != "plain";
  }();
  return aware;
}

/// One structural mutation of `text`, or nullopt when none applies.
static std::optional<std::string>
mutateStructure(StringRef text, Random &random, size_t maxSize) {
  std::optional<std::string> out;
  if (random.oneIn(64)) {
    out = generateSdpaModule(random, maxSize);
    // A score_mod one in three times: it reaches the lowering only on
    // modules that verify, as fresh ones mostly do.
    if (out && random.oneIn(3))
      if (std::optional<std::string> withScoreMod =
              mutateParsedIR(*out, random, maxSize, IRMutation::ScoreMod))
        out = std::move(withScoreMod);
    return out;
  }
  switch (random.below(8)) {
  case 0:
  case 1:
  case 2:
    out = mutateParsedIR(text, random, maxSize);
    break;
  case 3:
    out = mutateSegmentSizes(text, random);
    break;
  default:
    break;
  }
  // The pattern grammar: the most frequent choice, and the fallback when the
  // input does not parse or has no generic form.
  if (!out)
    out = mutatePatternText(text, random, maxSize);
  if (!out || out->empty() || out->size() > maxSize || *out == text)
    return std::nullopt;
  return out;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned int seed) {
  Random random(seed);
  if (!isStructureAware() || random.oneIn(2))
    return LLVMFuzzerMutate(data, size, maxSize);
  StringRef text(reinterpret_cast<const char *>(data), size);
  std::optional<std::string> out = mutateStructure(text, random, maxSize);
  if (!out)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::memcpy(data, out->data(), out->size());
  return out->size();
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
                                            const uint8_t *data2, size_t size2,
                                            uint8_t *out, size_t maxOutSize,
                                            unsigned int seed) {
  if (!isStructureAware())
    return 0;
  Random random(seed);
  std::optional<std::string> result =
      crossOverPatterns(StringRef(reinterpret_cast<const char *>(data1), size1),
                        StringRef(reinterpret_cast<const char *>(data2), size2),
                        random, maxOutSize);
  if (!result || result->empty())
    return 0;
  std::memcpy(out, result->data(), result->size());
  return result->size();
}

/// ATTN_FUZZ_SHOW_MUTATIONS=N: prints N structural mutations (seeds 1..N) of
/// each file argument and exits; ATTN_FUZZ_SHOW_DIR=DIR writes them to DIR.
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *show = std::getenv("ATTN_FUZZ_SHOW_MUTATIONS");
  if (!show)
    return 0;
  const char *dir = std::getenv("ATTN_FUZZ_SHOW_DIR");
  int count = std::atoi(show);
  for (int a = 1; a < *argc; ++a) {
    StringRef path = (*argv)[a];
    if (path.starts_with("-"))
      continue;
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer) {
      llvm::errs() << "attn-fuzz: cannot read " << path << "\n";
      continue;
    }
    for (int seed = 1; seed <= count; ++seed) {
      Random random(seed);
      std::optional<std::string> out =
          mutateStructure((*buffer)->getBuffer(), random, 1 << 20);
      llvm::outs() << "// ----- " << path << ", seed " << seed << ": ";
      if (!out) {
        llvm::outs() << "no structural mutation\n";
        continue;
      }
      llvm::outs() << out->size() << " bytes\n";
      if (dir) {
        std::string name =
            (llvm::Twine(dir) + "/" + llvm::sys::path::filename(path) + "." +
             llvm::Twine(seed))
                .str();
        std::error_code error;
        llvm::raw_fd_ostream file(name, error);
        if (!error)
          file << *out;
      }
      if (out->size() <= 4096)
        llvm::outs() << *out << "\n";
      else
        llvm::outs() << StringRef(*out).take_front(2048) << "\n...\n"
                     << StringRef(*out).take_back(1024) << "\n";
    }
  }
  llvm::outs().flush();
  std::exit(0);
}
