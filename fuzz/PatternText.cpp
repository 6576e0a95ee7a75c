//===- PatternText.cpp - Text mutations of the attn pattern grammar -------===//

#include "PatternText.h"
#include "PatternGenerator.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>

using namespace attn_fuzz;
using llvm::StringRef;

/// The mnemonics of the pattern attributes and the keywords of their bodies.
static const char *const kMnemonics[] = {
    "dense",   "causal",       "window",    "dilated", "block_local",
    "strided", "fixed",        "global",    "random",  "axial",
    "union",   "block_sparse", "intersect", "sink",    "neighborhood"};
static const char *const kKeywords[] = {
    "offset", "bottom_right", "left",    "right",  "dilation", "size",
    "stride", "block",        "summary", "tokens", "first",    "per_row",
    "seed",   "rows",         "cols",    "layout", "extent",   "window"};

std::vector<std::pair<size_t, size_t>>
attn_fuzz::findAttnAttributes(StringRef text) {
  std::vector<std::pair<size_t, size_t>> ranges;
  // One entry per open `<`: the start of the `#attn.` attribute it opens, or
  // npos for any other `<` (a type, `dense<`).
  std::vector<size_t> open;
  constexpr StringRef prefix = "#attn.";
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (c == '"') { // Skip string literals, escapes included.
      for (++i; i < e && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      continue;
    }
    if (c == '/' && text.substr(i, 2) == "//") {
      i = std::min(text.find('\n', i), e);
      continue;
    }
    if (c == '#' && text.substr(i).starts_with(prefix)) {
      size_t start = i;
      size_t end = i + prefix.size();
      while (end < e && (llvm::isAlnum(text[end]) || text[end] == '_'))
        ++end;
      if (end < e && text[end] == '<') {
        open.push_back(start);
        i = end;
        continue;
      }
      ranges.emplace_back(start, end);
      i = end - 1;
      continue;
    }
    if (c == '<') {
      open.push_back(StringRef::npos);
      continue;
    }
    if (c == '>' && (i == 0 || text[i - 1] != '-') && !open.empty()) {
      size_t start = open.back();
      open.pop_back();
      if (start != StringRef::npos)
        ranges.emplace_back(start, i + 1);
    }
  }
  // Unclosed attributes: just their mnemonic.
  for (size_t start : open) {
    if (start == StringRef::npos)
      continue;
    size_t end = start + prefix.size();
    while (end < text.size() && (llvm::isAlnum(text[end]) || text[end] == '_'))
      ++end;
    ranges.emplace_back(start, end);
  }
  return ranges;
}

//===----------------------------------------------------------------------===//
// Mutations of one attribute
//===----------------------------------------------------------------------===//

/// One in kLargeOneIn nesting, part and token counts is drawn from the large
/// range (from kLargeFrom up to what fits), the others from 1 to kSmallTo:
/// a large input costs seconds where a small one costs milliseconds, and a
/// few suffice to show stack overflows and super-linear passes.
static constexpr uint64_t kLargeOneIn = 16;
static constexpr int64_t kLargeFrom = 1000;
static constexpr int64_t kSmallTo = 64;

/// A count of at least `lo` and at most `hi`, large one in `largeOneIn`
/// (see above).
static int64_t drawCount(Random &random, int64_t lo, int64_t hi,
                         uint64_t largeOneIn) {
  if (hi >= kLargeFrom && random.oneIn(largeOneIn))
    return random.logUniform(kLargeFrom, hi);
  return random.logUniform(lo, std::min(hi, kSmallTo));
}

namespace {
/// The text being mutated and the attribute range chosen in it.
struct Site {
  StringRef text;
  size_t begin, end;
  size_t maxSize;
  /// One in this many counts (nesting, parts, tokens) is large.
  uint64_t largeOneIn = kLargeOneIn;

  StringRef attr() const { return text.slice(begin, end); }
  /// The most bytes a replacement of the attribute may have.
  size_t budget() const {
    size_t rest = text.size() - (end - begin);
    return maxSize > rest ? maxSize - rest : 0;
  }
  std::string replaceWith(StringRef replacement) const {
    std::string out;
    out.reserve(text.size() - (end - begin) + replacement.size());
    out += text.take_front(begin);
    out += replacement;
    out += text.drop_front(end);
    return out;
  }
};
} // namespace

/// `#attn.union<[A, G]>`, `#attn.intersect<[G, A]>`, `#attn.union<[A]>`,
/// `#attn.union<[A, A]>` ...
static std::string wrap(const Site &site, Random &random) {
  std::string out = random.oneIn(2) ? "#attn.union<[" : "#attn.intersect<[";
  std::string other;
  generatePattern(random, other, 1);
  switch (random.below(4)) {
  case 0:
    out += site.attr();
    break;
  case 1:
    out += site.attr().str() + ", " + site.attr().str();
    break;
  case 2:
    out += other + ", " + site.attr().str();
    break;
  default:
    out += site.attr().str() + ", " + other;
    break;
  }
  out += "]>";
  return out;
}

/// The attribute nested in `depth` unions and intersections, up to thousands
/// deep (the recursion of the parser, verifiers and simplification).
static std::string deepen(const Site &site, Random &random) {
  size_t perLevel = StringRef("#attn.intersect<[]>").size();
  size_t room = site.budget() > site.attr().size()
                    ? (site.budget() - site.attr().size()) / perLevel
                    : 0;
  int64_t depth =
      drawCount(random, 1, std::min<int64_t>(room, 20000), site.largeOneIn);
  if (depth < 1)
    return {};
  int kinds = random.below(3); // union, intersect, alternating.
  std::string out;
  out.reserve(depth * perLevel + site.attr().size());
  for (int64_t i = 0; i < depth; ++i)
    out += (kinds == 0 || (kinds == 2 && i % 2)) ? "#attn.union<["
                                                 : "#attn.intersect<[";
  out += site.attr();
  for (int64_t i = 0; i < depth; ++i)
    out += "]>";
  return out;
}

/// A union or intersection of up to tens of thousands of distinct parts (the
/// cost of flattening and merging them).
static std::string widen(const Site &site, Random &random) {
  constexpr size_t perPart = 48; // The longest distinct part, with ", ".
  int64_t room = site.budget() / perPart;
  int64_t parts =
      drawCount(random, 2, std::min<int64_t>(room, 100000), site.largeOneIn);
  if (parts < 2)
    return {};
  // The distinct families, or (the last choice) small random parts.
  int family = random.below(kDistinctPartFamilies + 1);
  std::string out = random.oneIn(4) ? "#attn.intersect<[" : "#attn.union<[";
  out.reserve(parts * perPart);
  if (random.oneIn(2))
    out += site.attr().str() + ", ";
  for (int64_t i = 0; i < parts; ++i) {
    if (i)
      out += ", ";
    if (family == kDistinctPartFamilies)
      generatePattern(random, out, 0);
    else
      appendDistinctPart(out, family, i);
  }
  out += "]>";
  return out.size() <= site.budget() ? out : std::string();
}

/// `#attn.global` with up to hundreds of thousands of tokens.
static std::string manyTokens(const Site &site, Random &random) {
  auto style = TokenStyle(random.below(4));
  int64_t perToken = style == TokenStyle::Edges ? 22 : 8; // With ", ".
  int64_t room = site.budget() / perToken;
  int64_t count =
      drawCount(random, 1, std::min<int64_t>(room, 200000), site.largeOneIn);
  std::string out;
  out.reserve(count * perToken);
  appendGlobal(random, out, count, style);
  return out.size() <= site.budget() ? out : std::string();
}

/// A block_sparse pattern, or the chosen block_sparse with its layout
/// replaced: vectors, other ranks and element types, other attribute kinds.
static std::string swapLayout(const Site &site, Random &random) {
  StringRef attr = site.attr();
  size_t layout = attr.find("layout = ");
  if (!attr.starts_with("#attn.block_sparse<") || layout == StringRef::npos ||
      random.oneIn(4)) {
    std::string out;
    appendBlockSparse(random, out);
    return out;
  }
  std::string out =
      attr.take_front(layout + StringRef("layout = ").size()).str();
  appendLayout(random, out);
  out += ">";
  return out;
}

/// The attribute with one integer replaced by an edge value or a long run of
/// digits.
static std::string changeParameter(const Site &site, Random &random) {
  StringRef attr = site.attr();
  std::vector<std::pair<size_t, size_t>> numbers;
  for (size_t i = 0; i < attr.size(); ++i) {
    if (!llvm::isDigit(attr[i]))
      continue;
    size_t b = (i > 0 && attr[i - 1] == '-') ? i - 1 : i;
    size_t e = i;
    while (e < attr.size() && llvm::isDigit(attr[e]))
      ++e;
    // Skip digits inside identifiers and types (`i1`, `2x2`).
    bool inWord = b > 0 && (llvm::isAlnum(attr[b - 1]) || attr[b - 1] == '_');
    bool beforeX = e < attr.size() && attr[e] == 'x';
    if (!inWord && !beforeX)
      numbers.emplace_back(b, e);
    i = e;
  }
  if (numbers.empty())
    return {};
  auto [b, e] = numbers[random.below(numbers.size())];
  std::string value = random.oneIn(16)
                          ? std::string(random.inRange(20, 400), '9')
                          : std::to_string(random.parameter());
  return attr.take_front(b).str() + value + attr.drop_front(e).str();
}

/// Misspells, replaces, drops or repeats a keyword or the mnemonic, so that
/// attributes and parameters that do not exist reach the parsers.
static std::string changeKeyword(const Site &site, Random &random) {
  StringRef attr = site.attr();
  // Identifier ranges after the `#attn.` prefix.
  std::vector<std::pair<size_t, size_t>> words;
  for (size_t i = 6; i < attr.size(); ++i) {
    if (!llvm::isAlpha(attr[i]) && attr[i] != '_')
      continue;
    size_t e = i;
    while (e < attr.size() && (llvm::isAlnum(attr[e]) || attr[e] == '_'))
      ++e;
    bool afterHash = attr.substr(0, i).ends_with("#attn.");
    bool isKeyword = llvm::is_contained(kKeywords, attr.slice(i, e));
    if (i == 6 || afterHash || isKeyword)
      words.emplace_back(i, e);
    i = e;
  }
  if (words.empty())
    return {};
  auto [b, e] = words[random.below(words.size())];
  std::string word = attr.slice(b, e).str();
  bool mnemonic = attr.substr(0, b).ends_with("#attn.");
  switch (random.below(6)) {
  case 0: { // Drop, repeat or swap a character.
    size_t at = random.below(word.size());
    int how = random.below(3);
    if (how == 0 && word.size() > 1)
      word.erase(at, 1);
    else if (how == 1)
      word.insert(at, 1, word[at]);
    else if (at + 1 < word.size())
      std::swap(word[at], word[at + 1]);
    else
      word += "s";
    break;
  }
  case 1:
    word[0] = llvm::toUpper(word[0]);
    break;
  case 2:
    word = mnemonic ? random.pick(kMnemonics) : random.pick(kKeywords);
    break;
  case 3: { // Repeat `key = value` (or the keyword).
    size_t end = attr.find_first_of(",>", e);
    if (end == StringRef::npos || mnemonic)
      return {};
    std::string pair = attr.slice(b, end).str();
    return attr.take_front(end).str() + ", " + pair +
           attr.drop_front(end).str();
  }
  case 4: { // Drop `key = value`.
    size_t end = attr.find_first_of(",>", e);
    if (end == StringRef::npos || mnemonic)
      return {};
    if (attr[end] == ',')
      ++end;
    return attr.take_front(b).str() + attr.drop_front(end).ltrim().str();
  }
  default:
    word = random.pick({"foo", "offsets", "pattern", "attn", "causal_"});
    break;
  }
  return attr.take_front(b).str() + word + attr.drop_front(e).str();
}

/// A non-pattern or empty replacement: a part that is not a pattern, an
/// empty union, nothing at all.
static std::string replaceByOther(Random &random) {
  return random.pick({"", "#attn.union<[]>", "#attn.intersect<[]>",
                      "#attn.feature_map<relu>", "5 : i64", "\"causal\"",
                      "unit", "[#attn.causal]", "#attn<causal>",
                      "#attn.causal<>", "#attn.global<>"});
}

/// Inserts `pattern(...)` into the first attn.sdpa of a text without pattern
/// attributes: as a clause before the attribute dictionary, score_mod or
/// `->` of the custom form, or into the properties of the generic form.
static std::optional<std::string> insertPattern(StringRef text,
                                                Random &random) {
  std::string pattern;
  generatePattern(random, pattern, 2);
  size_t generic = text.find("\"attn.sdpa\"");
  if (generic != StringRef::npos) {
    size_t props = text.find("<{", generic);
    if (props == StringRef::npos)
      return std::nullopt;
    return text.take_front(props + 2).str() + "pattern = " + pattern + ", " +
           text.drop_front(props + 2).str();
  }
  size_t op = text.find("attn.sdpa ");
  if (op == StringRef::npos)
    return std::nullopt;
  int depth = 0;
  for (size_t i = op; i < text.size(); ++i) {
    char c = text[i];
    if (c == '(' || c == '[')
      ++depth;
    else if (c == ')' || c == ']')
      --depth;
    if (depth != 0)
      continue;
    StringRef rest = text.drop_front(i);
    if (c == '{' || rest.starts_with("score_mod") || rest.starts_with("->"))
      return text.take_front(i).str() + "pattern(" + pattern + ") " +
             rest.str();
  }
  return std::nullopt;
}

std::optional<std::string>
attn_fuzz::mutatePatternText(StringRef text, Random &random, size_t maxSize) {
  std::vector<std::pair<size_t, size_t>> attrs = findAttnAttributes(text);
  // Pattern attributes only: not #attn.feature_map.
  llvm::erase_if(attrs, [&](auto range) {
    return text.substr(range.first).starts_with("#attn.feature_map");
  });
  if (attrs.empty() || random.oneIn(16))
    return insertPattern(text, random);
  auto [begin, end] = attrs[random.below(attrs.size())];
  Site site{text, begin, end, maxSize};
  std::string replacement;
  switch (random.below(12)) {
  case 0:
  case 1:
    replacement = wrap(site, random);
    break;
  case 2:
    replacement = deepen(site, random);
    break;
  case 3:
    replacement = widen(site, random);
    break;
  case 4:
    replacement = manyTokens(site, random);
    break;
  case 5:
    replacement = swapLayout(site, random);
    break;
  case 6:
  case 7:
    replacement = changeParameter(site, random);
    break;
  case 8:
  case 9:
    replacement = changeKeyword(site, random);
    break;
  case 10:
    generatePattern(random, replacement, 3);
    break;
  default:
    replacement = replaceByOther(random);
    if (replacement.empty())
      return site.replaceWith("");
    break;
  }
  if (replacement.empty() || replacement.size() > site.budget())
    return std::nullopt;
  return site.replaceWith(replacement);
}

std::optional<std::string> attn_fuzz::crossOverPatterns(StringRef into,
                                                        StringRef from,
                                                        Random &random,
                                                        size_t maxSize) {
  std::vector<std::pair<size_t, size_t>> targets = findAttnAttributes(into);
  std::vector<std::pair<size_t, size_t>> sources = findAttnAttributes(from);
  if (targets.empty() || sources.empty())
    return std::nullopt;
  auto [tb, te] = targets[random.below(targets.size())];
  auto [sb, se] = sources[random.below(sources.size())];
  Site site{into, tb, te, maxSize};
  if (se - sb > site.budget())
    return std::nullopt;
  return site.replaceWith(from.slice(sb, se));
}

std::optional<std::string> attn_fuzz::generateSdpaModule(Random &random,
                                                         size_t maxSize) {
  static const char *const lengths[] = {"1", "3", "8", "16", "?"};
  static const char *const elements[] = {"f32", "f32", "f16", "bf16"};
  int64_t heads = random.pick({int64_t(1), int64_t(2), int64_t(4)});
  int64_t kvHeads = random.oneIn(2) ? heads : 1;
  std::string nq = random.pick(lengths);
  std::string nk = random.oneIn(2) ? nq : std::string(random.pick(lengths));
  std::string element = random.pick(elements);
  auto type = [&](int64_t h, const std::string &n) {
    return "tensor<1x" + std::to_string(h) + "x" + n + "x8x" + element + ">";
  };
  std::string q = type(heads, nq), kv = type(kvHeads, nk);
  std::string head = "func.func @f(%q: " + q + ", %k: " + kv + ", %v: " + kv +
                     ", %o: " + q + ") -> " + q +
                     " {\n  %r = attn.sdpa ins(%q, %k, %v : " + q + ", " + kv +
                     ", " + kv + ") outs(%o : " + q + ") pattern(";
  std::string tail = ") -> " + q + "\n  return %r : " + q + "\n}\n";
  std::string pattern;
  generatePattern(random, pattern, 2);
  std::string text = head + pattern + tail;
  // Large counts one in four times: the point of a fresh module is to carry
  // a large pattern to the pipelines, which run only on small modules.
  Site site{text, head.size(), head.size() + pattern.size(), maxSize, 4};
  std::string replacement;
  switch (random.below(5)) {
  case 0:
    replacement = deepen(site, random);
    break;
  case 1:
    replacement = widen(site, random);
    break;
  case 2:
    replacement = manyTokens(site, random);
    break;
  case 3:
    replacement = swapLayout(site, random);
    break;
  default:
    break;
  }
  if (!replacement.empty() && replacement.size() <= site.budget())
    return site.replaceWith(replacement);
  if (text.size() > maxSize)
    return std::nullopt;
  return text;
}
