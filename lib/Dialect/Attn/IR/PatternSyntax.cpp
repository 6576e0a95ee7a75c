//===- PatternSyntax.cpp - Parsers and printers of the pattern attributes -===//
//
// Every pattern parameter is written `name = value`, in any order; a missing,
// repeated or unknown parameter is named in the diagnostic. Unions and
// intersections nest at most kMaxPatternNesting levels deep, which the parser
// checks before it recurses.
//
//===----------------------------------------------------------------------===//
#include "PatternSyntax.h"

#include "attn/Dialect/Attn/IR/AttnAttrs.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::attn;

//===----------------------------------------------------------------------===//
// Parameter lists
//===----------------------------------------------------------------------===//

/// Returns "a, b, c": the names of `params`.
static std::string joinNames(ArrayRef<PatternParam> params) {
  std::string names;
  llvm::raw_string_ostream os(names);
  llvm::interleaveComma(params, os,
                        [&](const PatternParam &p) { os << p.name; });
  return names;
}

ParseResult mlir::attn::parsePatternParams(AsmParser &parser,
                                           StringRef mnemonic,
                                           ArrayRef<PatternParam> params) {
  std::string names = joinNames(params);
  SMLoc loc = parser.getCurrentLocation();
  if (failed(parser.parseOptionalLess()))
    return parser.emitError(loc) << "#attn." << mnemonic
                                 << " needs its parameters in <...>: " << names;
  SmallVector<bool> seen(params.size(), false);
  if (failed(parser.parseOptionalGreater())) {
    do {
      SMLoc nameLoc = parser.getCurrentLocation();
      StringRef name;
      if (failed(parser.parseOptionalKeyword(&name)))
        return parser.emitError(nameLoc)
               << "expected a parameter of #attn." << mnemonic << " ("
               << names << ")";
      const auto *param = llvm::find_if(
          params, [&](const PatternParam &p) { return p.name == name; });
      if (param == params.end())
        return parser.emitError(nameLoc)
               << "#attn." << mnemonic << " has no parameter '" << name
               << "'; its parameters are " << names;
      size_t index = param - params.begin();
      if (seen[index])
        return parser.emitError(nameLoc)
               << "#attn." << mnemonic << " has " << name << " twice";
      seen[index] = true;
      if (parser.parseEqual() || param->parseValue())
        return failure();
    } while (succeeded(parser.parseOptionalComma()));
    SMLoc endLoc = parser.getCurrentLocation();
    if (failed(parser.parseOptionalGreater()))
      return parser.emitError(endLoc)
             << "expected ',' or '>' after a parameter of #attn." << mnemonic;
  }
  SmallVector<StringRef> missing;
  for (auto [param, given] : llvm::zip(params, seen))
    if (param.required && !given)
      missing.push_back(param.name);
  if (missing.empty())
    return success();
  InFlightDiagnostic diag = parser.emitError(loc)
                            << "#attn." << mnemonic << " is missing the "
                            << (missing.size() == 1 ? "parameter " : "parameters ");
  llvm::interleaveComma(missing, diag,
                        [&](StringRef name) { diag << "'" << name << "'"; });
  return diag << " (its parameters are " << names << ")";
}

namespace {
/// Parses one integer parameter into its slot.
struct IntParser {
  AsmParser *parser;
  int64_t *value;
  ParseResult operator()() const { return parser->parseInteger(*value); }
};
} // namespace

ParseResult mlir::attn::parseIntParams(AsmParser &parser, StringRef mnemonic,
                                       ArrayRef<StringRef> names,
                                       SmallVectorImpl<int64_t> &values) {
  values.assign(names.size(), 0);
  SmallVector<IntParser> parsers;
  for (int64_t &value : values)
    parsers.push_back({&parser, &value});
  SmallVector<PatternParam> params;
  for (auto [name, intParser] : llvm::zip(names, parsers))
    params.push_back({name, intParser});
  return parsePatternParams(parser, mnemonic, params);
}

void mlir::attn::printIntParams(AsmPrinter &printer, ArrayRef<StringRef> names,
                                ArrayRef<int64_t> values) {
  printer << "<";
  llvm::interleaveComma(llvm::zip(names, values), printer, [&](auto param) {
    printer << std::get<0>(param) << " = " << std::get<1>(param);
  });
  printer << ">";
}

/// Parses `[a, b, ...]` (possibly empty) into `values`.
static ParseResult parseIntList(AsmParser &parser,
                                SmallVectorImpl<int64_t> &values) {
  return parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
    return parser.parseInteger(values.emplace_back());
  });
}

/// Prints `[a, b, ...]`.
static void printIntList(AsmPrinter &printer, ArrayRef<int64_t> values) {
  printer << "[";
  llvm::interleaveComma(values, printer);
  printer << "]";
}

//===----------------------------------------------------------------------===//
// #attn.causal: `#attn.causal`, `<offset = c>`, `<bottom_right>`, both.
//===----------------------------------------------------------------------===//

Attribute CausalAttr::parse(AsmParser &parser, Type) {
  int64_t offset = 0;
  bool bottomRight = false;
  if (succeeded(parser.parseOptionalLess())) {
    bool first = true, seenOffset = false;
    while (first || succeeded(parser.parseOptionalComma())) {
      first = false;
      SMLoc loc = parser.getCurrentLocation();
      if (succeeded(parser.parseOptionalKeyword("bottom_right"))) {
        if (bottomRight) {
          parser.emitError(loc, "#attn.causal has bottom_right twice");
          return {};
        }
        bottomRight = true;
        continue;
      }
      if (parser.parseKeyword("offset") || parser.parseEqual() ||
          parser.parseInteger(offset))
        return {};
      if (seenOffset) {
        parser.emitError(loc, "#attn.causal has offset twice");
        return {};
      }
      seenOffset = true;
    }
    if (parser.parseGreater())
      return {};
  }
  return parser.getChecked<CausalAttr>(parser.getContext(), offset,
                                       bottomRight);
}

void CausalAttr::print(AsmPrinter &printer) const {
  if (getOffset() == 0 && !getBottomRight())
    return;
  printer << "<";
  if (getOffset() != 0)
    printer << "offset = " << getOffset() << (getBottomRight() ? ", " : "");
  if (getBottomRight())
    printer << "bottom_right";
  printer << ">";
}

//===----------------------------------------------------------------------===//
// #attn.global<tokens = [..], first = n> and #attn.sink<tokens = [..], first = n>
//===----------------------------------------------------------------------===//

/// Parses `<tokens = [..], first = n>` (both optional) for `AttrT`.
template <typename AttrT>
static Attribute parseTokenParams(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> tokens;
  int64_t first = 0;
  auto parseTokens = [&] { return parseIntList(parser, tokens); };
  auto parseFirst = [&] { return parser.parseInteger(first); };
  PatternParam params[] = {{"tokens", parseTokens, /*required=*/false},
                           {"first", parseFirst, /*required=*/false}};
  if (failed(parsePatternParams(parser, AttrT::getMnemonic(), params)))
    return {};
  return parser.getChecked<AttrT>(loc, parser.getContext(),
                                  ArrayRef<int64_t>(tokens), first);
}

/// Prints `<tokens = [..], first = n>`, leaving out `first = 0` after tokens.
static void printTokenParams(AsmPrinter &printer, ArrayRef<int64_t> tokens,
                             int64_t first) {
  printer << "<";
  if (!tokens.empty()) {
    printer << "tokens = ";
    printIntList(printer, tokens);
    if (first == 0) {
      printer << ">";
      return;
    }
    printer << ", ";
  }
  printer << "first = " << first << ">";
}

Attribute GlobalAttr::parse(AsmParser &parser, Type) {
  return parseTokenParams<GlobalAttr>(parser);
}

void GlobalAttr::print(AsmPrinter &printer) const {
  printTokenParams(printer, getTokens(), getFirst());
}

Attribute SinkAttr::parse(AsmParser &parser, Type) {
  return parseTokenParams<SinkAttr>(parser);
}

void SinkAttr::print(AsmPrinter &printer) const {
  printTokenParams(printer, getTokens(), getFirst());
}

//===----------------------------------------------------------------------===//
// #attn.neighborhood<extent = [..], window = [..]>
//===----------------------------------------------------------------------===//

Attribute NeighborhoodAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> extent, window;
  auto parseExtent = [&] { return parseIntList(parser, extent); };
  auto parseWindow = [&] { return parseIntList(parser, window); };
  PatternParam params[] = {{"extent", parseExtent}, {"window", parseWindow}};
  if (failed(parsePatternParams(parser, getMnemonic(), params)))
    return {};
  return parser.getChecked<NeighborhoodAttr>(loc, parser.getContext(),
                                             ArrayRef<int64_t>(extent),
                                             ArrayRef<int64_t>(window));
}

void NeighborhoodAttr::print(AsmPrinter &printer) const {
  printer << "<extent = ";
  printIntList(printer, getExtent());
  printer << ", window = ";
  printIntList(printer, getWindow());
  printer << ">";
}

//===----------------------------------------------------------------------===//
// #attn.block_sparse<block = [bq, bk], layout = dense<...> : tensor<MxKxi1>>
//===----------------------------------------------------------------------===//

Attribute BlockSparseAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation(), layoutLoc = loc;
  SmallVector<int64_t> block;
  Attribute layout;
  auto parseBlock = [&] { return parseIntList(parser, block); };
  auto parseLayout = [&] {
    layoutLoc = parser.getCurrentLocation();
    return parser.parseAttribute(layout);
  };
  PatternParam params[] = {{"block", parseBlock}, {"layout", parseLayout}};
  if (failed(parsePatternParams(parser, getMnemonic(), params)))
    return {};
  auto dense = llvm::dyn_cast<DenseIntElementsAttr>(layout);
  if (!dense) {
    parser.emitError(layoutLoc,
                     "#attn.block_sparse needs a dense i1 tensor layout, but "
                     "got ")
        << layout;
    return {};
  }
  return parser.getChecked<BlockSparseAttr>(loc, parser.getContext(),
                                            ArrayRef<int64_t>(block), dense);
}

void BlockSparseAttr::print(AsmPrinter &printer) const {
  printer << "<block = ";
  printIntList(printer, getBlock());
  printer << ", layout = " << getLayout() << ">";
}

//===----------------------------------------------------------------------===//
// #attn.union<[...]> and #attn.intersect<[...]>
//===----------------------------------------------------------------------===//

namespace {
/// Counts the unions and intersections that this thread is parsing, one
/// inside the other, so that the parser stops before its recursion can
/// overflow the stack.
class NestingGuard {
public:
  NestingGuard() { ++depth; }
  ~NestingGuard() { --depth; }
  NestingGuard(const NestingGuard &) = delete;
  NestingGuard &operator=(const NestingGuard &) = delete;
  bool tooDeep() const { return depth > kMaxPatternNesting; }

private:
  static thread_local unsigned depth;
};
thread_local unsigned NestingGuard::depth = 0;
} // namespace

/// Parses `<[part, ...]>` for a union or intersection `AttrT`.
template <typename AttrT>
static Attribute parseParts(AsmParser &parser) {
  NestingGuard guard;
  SMLoc loc = parser.getCurrentLocation();
  StringRef mnemonic = AttrT::getMnemonic();
  if (guard.tooDeep()) {
    parser.emitError(loc) << "#attn." << mnemonic
                          << " nests unions and intersections more than "
                          << kMaxPatternNesting << " levels deep (the limit)";
    return {};
  }
  SmallVector<PatternAttrInterface> parts;
  auto parsePart = [&]() -> ParseResult {
    SMLoc partLoc = parser.getCurrentLocation();
    Attribute part;
    if (parser.parseAttribute(part))
      return failure();
    auto pattern = llvm::dyn_cast<PatternAttrInterface>(part);
    if (!pattern)
      return parser.emitError(partLoc)
             << "#attn." << mnemonic << " needs patterns as parts, but got "
             << part;
    parts.push_back(pattern);
    return success();
  };
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                     parsePart) ||
      parser.parseGreater())
    return {};
  // ArrayRef (not the vector) selects the generated getChecked, defined where
  // the attribute storage is.
  return parser.getChecked<AttrT>(loc, parser.getContext(),
                                  ArrayRef<PatternAttrInterface>(parts));
}

/// Prints `<[part, ...]>`.
static void printParts(AsmPrinter &printer,
                       ArrayRef<PatternAttrInterface> parts) {
  printer << "<[";
  llvm::interleaveComma(parts, printer, [&](PatternAttrInterface part) {
    printer.printAttribute(part);
  });
  printer << "]>";
}

Attribute UnionAttr::parse(AsmParser &parser, Type) {
  return parseParts<UnionAttr>(parser);
}

void UnionAttr::print(AsmPrinter &printer) const {
  printParts(printer, getParts());
}

Attribute IntersectAttr::parse(AsmParser &parser, Type) {
  return parseParts<IntersectAttr>(parser);
}

void IntersectAttr::print(AsmPrinter &printer) const {
  printParts(printer, getParts());
}
