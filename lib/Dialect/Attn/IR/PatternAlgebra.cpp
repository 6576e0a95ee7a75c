//===- PatternAlgebra.cpp - Canonical forms of patterns -------------------===//
//
// Every pattern simplifies itself through `simplify`; unions and intersections
// flatten, deduplicate and merge the parts that are diagonal bands (`getBand`:
// dense, causal, window). `simplifyPattern` adds the rule that needs the whole
// position range: a pattern under which every pair is live becomes dense.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnAttrs.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CheckedArithmetic.h"

#include <limits>
#include <tuple>

using namespace mlir;
using namespace mlir::attn;

/// Bands whose bounds leave the 32-bit parameter range are not turned back
/// into attributes (the attributes could not hold them).
static bool fitsParameter(std::optional<int64_t> bound) {
  constexpr int64_t limit = int64_t(1) << 31;
  return !bound || (*bound > -limit && *bound < limit);
}

/// Returns the attribute for a band, or null when no pattern states it
/// (a band open only above, an empty band, or bounds out of range).
static PatternAttrInterface bandToPattern(MLIRContext *ctx, DiagonalBand band) {
  if (!fitsParameter(band.lo) || !fitsParameter(band.hi))
    return {};
  if (!band.lo && !band.hi)
    return DenseAttr::get(ctx);
  if (!band.lo)
    return CausalAttr::get(ctx, *band.hi, /*bottom_right=*/false);
  if (!band.hi || *band.lo > *band.hi)
    return {};
  return WindowAttr::get(ctx, -*band.lo, *band.hi);
}

/// Returns the tighter of two bounds (`pickLower` chooses the smaller).
static std::optional<int64_t>
tighter(std::optional<int64_t> a, std::optional<int64_t> b, bool pickLower) {
  if (!a)
    return b;
  if (!b)
    return a;
  return pickLower ? std::min(*a, *b) : std::max(*a, *b);
}

/// Simplifies the parts, and splices in the parts of nested `Self` patterns,
/// keeping the first occurrence of each part (in linear time).
template <typename Self>
static SmallVector<PatternAttrInterface>
flattenParts(ArrayRef<PatternAttrInterface> parts,
             const PatternContext &context) {
  SmallVector<PatternAttrInterface> flat;
  llvm::DenseSet<Attribute> seen;
  auto add = [&](PatternAttrInterface part) {
    if (seen.insert(part).second)
      flat.push_back(part);
  };
  for (PatternAttrInterface part : parts) {
    PatternAttrInterface simple = simplifyPattern(part, context);
    if (auto nested = llvm::dyn_cast<Self>(simple)) {
      for (PatternAttrInterface inner : nested.getParts())
        add(inner);
      continue;
    }
    add(simple);
  }
  return flat;
}

//===----------------------------------------------------------------------===//
// Bands
//===----------------------------------------------------------------------===//

std::optional<DiagonalBand> DenseAttr::getBand(const PatternContext &) const {
  return DiagonalBand{};
}

std::optional<DiagonalBand>
CausalAttr::getBand(const PatternContext &context) const {
  if (!getBottomRight())
    return DiagonalBand{std::nullopt, getOffset()};
  if (ShapedType::isDynamic(context.numQueries) ||
      ShapedType::isDynamic(context.numKeys))
    return std::nullopt;
  // Lengths are non-negative, so their difference fits; the sum may not.
  std::optional<int64_t> hi =
      llvm::checkedAdd(getOffset(), context.numKeys - context.numQueries);
  if (!hi)
    return std::nullopt;
  return DiagonalBand{std::nullopt, *hi};
}

std::optional<DiagonalBand> WindowAttr::getBand(const PatternContext &) const {
  return DiagonalBand{-getLeft(), getRight()};
}

std::optional<DiagonalBand>
IntersectAttr::getBand(const PatternContext &context) const {
  DiagonalBand band;
  for (PatternAttrInterface part : getParts()) {
    std::optional<DiagonalBand> partBand = part.getBand(context);
    if (!partBand)
      return std::nullopt;
    band.lo = tighter(band.lo, partBand->lo, /*pickLower=*/false);
    band.hi = tighter(band.hi, partBand->hi, /*pickLower=*/true);
  }
  return band;
}

//===----------------------------------------------------------------------===//
// Single patterns
//===----------------------------------------------------------------------===//

PatternAttrInterface CausalAttr::simplify(const PatternContext &context) const {
  if (!getBottomRight())
    return *this;
  if (std::optional<DiagonalBand> band = getBand(context))
    if (PatternAttrInterface topLeft = bandToPattern(getContext(), *band))
      return topLeft;
  return *this;
}

PatternAttrInterface DilatedAttr::simplify(const PatternContext &) const {
  if (getDilation() == 1)
    return WindowAttr::get(getContext(), getLeft(), getRight());
  return *this;
}

PatternAttrInterface BlockLocalAttr::simplify(const PatternContext &) const {
  if (getSize() == 1)
    return WindowAttr::get(getContext(), 0, 0);
  return *this;
}

PatternAttrInterface StridedAttr::simplify(const PatternContext &) const {
  if (getStride() == 1)
    return DenseAttr::get(getContext());
  return *this;
}

PatternAttrInterface FixedAttr::simplify(const PatternContext &) const {
  if (getSummary() == getBlock())
    return DenseAttr::get(getContext());
  return *this;
}

/// Sorts and dedupes `tokens`, absorbs those that extend `[0, first)` and
/// drops those that it already covers (global and sink patterns).
static void normalizeTokens(SmallVector<int64_t> &tokens, int64_t &first) {
  llvm::sort(tokens);
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  constexpr int64_t firstLimit = (int64_t(1) << 31) - 1;
  for (int64_t t : tokens)
    if (t == first && first < firstLimit)
      ++first;
  llvm::erase_if(tokens, [&](int64_t t) { return t >= 0 && t < first; });
}

PatternAttrInterface GlobalAttr::simplify(const PatternContext &) const {
  SmallVector<int64_t> tokens(getTokens());
  int64_t first = getFirst();
  normalizeTokens(tokens, first);
  return GlobalAttr::get(getContext(), tokens, first);
}

PatternAttrInterface SinkAttr::simplify(const PatternContext &) const {
  SmallVector<int64_t> tokens(getTokens());
  int64_t first = getFirst();
  normalizeTokens(tokens, first);
  return SinkAttr::get(getContext(), tokens, first);
}

PatternAttrInterface
NeighborhoodAttr::simplify(const PatternContext &) const {
  // An axis of extent 1 constrains nothing (its coordinate is always 0) and
  // does not change the strides of the others; two neighbouring axes whose
  // windows cover them whole act as one axis of their product.
  SmallVector<int64_t> extent, window;
  for (auto [e, w] : llvm::zip_equal(getExtent(), getWindow())) {
    if (e == 1)
      continue;
    if (!extent.empty() && w == e && window.back() == extent.back()) {
      extent.back() *= e;
      window.back() *= e;
      continue;
    }
    extent.push_back(e);
    window.push_back(w);
  }
  if (extent.empty()) { // A single position.
    extent.push_back(1);
    window.push_back(1);
  }
  return NeighborhoodAttr::get(getContext(), extent, window);
}

//===----------------------------------------------------------------------===//
// Union and intersection
//===----------------------------------------------------------------------===//

/// Removes the parts marked in `erased` (one flag per part), keeping the
/// order of the others.
static void eraseMarked(SmallVectorImpl<PatternAttrInterface> &parts,
                        ArrayRef<bool> erased) {
  size_t kept = 0;
  for (size_t index = 0; index < parts.size(); ++index)
    if (!erased[index])
      parts[kept++] = parts[index];
  parts.truncate(kept);
}

/// Replaces each group of band parts of a union that overlap or touch
/// (`j - i` is an integer, so `[a, b]` and `[b + 1, c]` touch) by their hull,
/// at the place of the group's first part. A group whose hull no pattern
/// states is left as it is. Sorting the bands by their lower bound makes this
/// O(n log n) in the number of parts.
static void mergeTouchingBands(MLIRContext *ctx,
                               SmallVectorImpl<PatternAttrInterface> &parts,
                               const PatternContext &context) {
  struct Band {
    DiagonalBand band;
    size_t index;
  };
  SmallVector<Band> bands;
  for (auto [index, part] : llvm::enumerate(parts)) {
    std::optional<DiagonalBand> band = part.getBand(context);
    // An empty band (lo > hi) covers nothing: leave it alone.
    if (band && !(band->lo && band->hi && *band->lo > *band->hi))
      bands.push_back({*band, index});
  }
  // A missing lower bound is -inf and sorts first; ties keep the part order.
  llvm::sort(bands, [](const Band &x, const Band &y) {
    int64_t xLo = x.band.lo.value_or(std::numeric_limits<int64_t>::min());
    int64_t yLo = y.band.lo.value_or(std::numeric_limits<int64_t>::min());
    return std::tie(xLo, x.index) < std::tie(yLo, y.index);
  });
  SmallVector<bool> erased(parts.size(), false);
  for (size_t begin = 0; begin < bands.size();) {
    // Grow the group while the next band starts at most one past the hull.
    DiagonalBand hull = bands[begin].band;
    size_t first = bands[begin].index, end = begin + 1;
    for (; end < bands.size(); ++end) {
      const DiagonalBand &next = bands[end].band;
      // Lower bounds come from windows (above -2^31), so `lo - 1` fits.
      if (hull.hi && next.lo && *hull.hi < *next.lo - 1)
        break;
      hull.hi = hull.hi && next.hi ? std::max(*hull.hi, *next.hi)
                                   : std::optional<int64_t>();
      first = std::min(first, bands[end].index);
    }
    if (end - begin > 1)
      if (PatternAttrInterface merged = bandToPattern(ctx, hull)) {
        for (size_t member = begin; member < end; ++member)
          erased[bands[member].index] = true;
        erased[first] = false;
        parts[first] = merged;
      }
    begin = end;
  }
  eraseMarked(parts, erased);
}

/// Replaces the sink parts of a union by one sink, at the place of the
/// first: a key is a sink of the union when it is a sink of any part.
static void mergeSinks(MLIRContext *ctx,
                       SmallVectorImpl<PatternAttrInterface> &parts) {
  SmallVector<int64_t> tokens;
  int64_t first = 0;
  SmallVector<bool> erased(parts.size(), false);
  std::optional<size_t> kept;
  for (auto [index, part] : llvm::enumerate(parts)) {
    auto sink = llvm::dyn_cast<SinkAttr>(part);
    if (!sink)
      continue;
    llvm::append_range(tokens, sink.getTokens());
    first = std::max(first, sink.getFirst());
    if (kept)
      erased[index] = true;
    else
      kept = index;
  }
  if (!kept || llvm::count(erased, true) == 0)
    return;
  normalizeTokens(tokens, first);
  parts[*kept] = SinkAttr::get(ctx, tokens, first);
  eraseMarked(parts, erased);
}

PatternAttrInterface UnionAttr::simplify(const PatternContext &context) const {
  MLIRContext *ctx = getContext();
  SmallVector<PatternAttrInterface> parts =
      flattenParts<UnionAttr>(getParts(), context);
  if (llvm::any_of(parts, [](auto p) { return llvm::isa<DenseAttr>(p); }))
    return DenseAttr::get(ctx);
  mergeTouchingBands(ctx, parts, context);
  mergeSinks(ctx, parts);
  if (parts.size() == 1)
    return parts.front();
  return UnionAttr::get(ctx, parts);
}

PatternAttrInterface
IntersectAttr::simplify(const PatternContext &context) const {
  MLIRContext *ctx = getContext();
  SmallVector<PatternAttrInterface> parts =
      flattenParts<IntersectAttr>(getParts(), context);
  llvm::erase_if(parts, [](auto p) { return llvm::isa<DenseAttr>(p); });
  // Fold every band part into the first one when the result is a pattern.
  std::optional<DiagonalBand> band;
  SmallVector<size_t> bandParts;
  for (auto [index, part] : llvm::enumerate(parts)) {
    std::optional<DiagonalBand> partBand = part.getBand(context);
    if (!partBand)
      continue;
    bandParts.push_back(index);
    band = band ? DiagonalBand{tighter(band->lo, partBand->lo, false),
                               tighter(band->hi, partBand->hi, true)}
                : *partBand;
  }
  if (bandParts.size() > 1)
    if (PatternAttrInterface merged = bandToPattern(ctx, *band)) {
      parts[bandParts.front()] = merged;
      SmallVector<bool> erased(parts.size(), false);
      for (size_t index : ArrayRef(bandParts).drop_front())
        erased[index] = true;
      eraseMarked(parts, erased);
    }
  if (parts.empty())
    return DenseAttr::get(ctx);
  if (parts.size() == 1)
    return parts.front();
  return IntersectAttr::get(ctx, parts);
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

PatternAttrInterface
mlir::attn::simplifyPattern(PatternAttrInterface pattern,
                            const PatternContext &context) {
  // Each rule shrinks the pattern, so a few rounds reach the fixed point.
  for (int round = 0; round < 8; ++round) {
    PatternAttrInterface next = pattern.simplify(context);
    if (context.knowsAllPositions() && context.numQueries > 0 &&
        context.numKeys > 0 &&
        next.classify({0, context.numQueries}, {0, context.numKeys},
                      context.numQueries, context.numKeys) == BlockKind::Full)
      next = DenseAttr::get(pattern.getContext());
    if (next == pattern)
      return pattern;
    pattern = next;
  }
  return pattern;
}
