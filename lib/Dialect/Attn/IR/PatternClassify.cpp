//===- PatternClassify.cpp - Conservative block classification ------------===//
//
// `classify` may answer Partial where Full or Empty was possible, never the
// reverse. The unit tests check every answer against brute-force `isLive`.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnAttrs.h"
#include "attn/Dialect/Attn/IR/QueryTileFacts.h"

#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::attn;

/// Classifies a block by the range of `j - i` over it against the band
/// `lo <= j - i <= hi` (a missing bound is unbounded).
static BlockKind classifyBand(PositionRange q, PositionRange k,
                              std::optional<int64_t> lo,
                              std::optional<int64_t> hi) {
  int64_t minDiff = k.begin - q.last(), maxDiff = k.last() - q.begin;
  if ((hi && minDiff > *hi) || (lo && maxDiff < *lo))
    return BlockKind::Empty;
  if ((!lo || minDiff >= *lo) && (!hi || maxDiff <= *hi))
    return BlockKind::Full;
  return BlockKind::Partial;
}

/// Returns whether the interval [lo, hi] holds a multiple of `m` (m >= 1).
static bool holdsMultiple(int64_t lo, int64_t hi, int64_t m) {
  return lo <= hi && floorDiv(hi, m) * m >= lo;
}

BlockKind mlir::attn::classifyBlock(PatternAttrInterface pattern,
                                    PositionRange queries, PositionRange keys,
                                    int64_t numQueries, int64_t numKeys) {
  bool lengthsKnown =
      !ShapedType::isDynamic(numQueries) && !ShapedType::isDynamic(numKeys);
  if (queries.size() == 1 && keys.size() == 1 && lengthsKnown)
    return pattern.isLive(queries.begin, keys.begin, numQueries, numKeys)
               ? BlockKind::Full
               : BlockKind::Empty;
  return pattern.classify(queries, keys, numQueries, numKeys);
}

BlockKind DenseAttr::classify(PositionRange, PositionRange, int64_t,
                              int64_t) const {
  return BlockKind::Full;
}

BlockKind CausalAttr::classify(PositionRange q, PositionRange k, int64_t nq,
                               int64_t nk) const {
  if (getBottomRight() &&
      (ShapedType::isDynamic(nq) || ShapedType::isDynamic(nk)))
    return BlockKind::Partial;
  std::optional<int64_t> hi =
      llvm::checkedAdd(getOffset(), getBottomRight() ? nk - nq : 0);
  if (!hi)
    return BlockKind::Partial;
  return classifyBand(q, k, std::nullopt, *hi);
}

BlockKind WindowAttr::classify(PositionRange q, PositionRange k, int64_t,
                               int64_t) const {
  return classifyBand(q, k, -getLeft(), getRight());
}

BlockKind DilatedAttr::classify(PositionRange q, PositionRange k, int64_t,
                                int64_t) const {
  int64_t d = getDilation();
  BlockKind band = classifyBand(q, k, -getLeft() * d, getRight() * d);
  if (band == BlockKind::Empty || d == 1)
    return band;
  // Some pair must have i - j both in the band and a multiple of d.
  int64_t lo = std::max(q.begin - k.last(), -getRight() * d);
  int64_t hi = std::min(q.last() - k.begin, getLeft() * d);
  if (!holdsMultiple(lo, hi, d))
    return BlockKind::Empty;
  return BlockKind::Partial;
}

BlockKind BlockLocalAttr::classify(PositionRange q, PositionRange k, int64_t,
                                   int64_t) const {
  int64_t qFirst = floorDiv(q.begin, getSize()),
          qLast = floorDiv(q.last(), getSize());
  int64_t kFirst = floorDiv(k.begin, getSize()),
          kLast = floorDiv(k.last(), getSize());
  if (qLast < kFirst || kLast < qFirst)
    return BlockKind::Empty;
  if (qFirst == qLast && kFirst == kLast)
    return BlockKind::Full;
  return BlockKind::Partial;
}

BlockKind StridedAttr::classify(PositionRange q, PositionRange k, int64_t,
                                int64_t) const {
  if (getStride() == 1)
    return BlockKind::Full;
  if (!holdsMultiple(q.begin - k.last(), q.last() - k.begin, getStride()))
    return BlockKind::Empty;
  return BlockKind::Partial;
}

BlockKind FixedAttr::classify(PositionRange, PositionRange k, int64_t,
                              int64_t) const {
  int64_t l = getBlock(), c = getSummary();
  if (c == 0)
    return BlockKind::Empty;
  if (c == l)
    return BlockKind::Full;
  if (k.size() >= l)
    return BlockKind::Partial;
  int64_t first = floorMod(k.begin, l), last = first + k.size() - 1;
  if (last >= l) // The residues wrap: they hold both l - 1 (live) and 0 (not).
    return BlockKind::Partial;
  if (first >= l - c)
    return BlockKind::Full;
  if (last < l - c)
    return BlockKind::Empty;
  return BlockKind::Partial;
}

/// Returns how many positions of `range` are among `tokens` or in
/// `[0, first)` (O(n log n) in the number of tokens).
static int64_t countTokens(ArrayRef<int64_t> tokens, int64_t first,
                           PositionRange range) {
  int64_t count = std::max<int64_t>(0, std::min(range.end, first) -
                                           std::max<int64_t>(range.begin, 0));
  llvm::SmallVector<int64_t> extra;
  for (int64_t t : tokens)
    if (t >= range.begin && t < range.end && !(t >= 0 && t < first))
      extra.push_back(t);
  llvm::sort(extra);
  count += std::unique(extra.begin(), extra.end()) - extra.begin();
  return count;
}

BlockKind GlobalAttr::classify(PositionRange q, PositionRange k, int64_t,
                               int64_t) const {
  int64_t globalQueries = countTokens(getTokens(), getFirst(), q),
          globalKeys = countTokens(getTokens(), getFirst(), k);
  if (globalQueries == q.size() || globalKeys == k.size())
    return BlockKind::Full;
  if (globalQueries == 0 && globalKeys == 0)
    return BlockKind::Empty;
  return BlockKind::Partial;
}

BlockKind SinkAttr::classify(PositionRange, PositionRange k, int64_t,
                             int64_t) const {
  int64_t sinks = countTokens(getTokens(), getFirst(), k);
  if (sinks == k.size())
    return BlockKind::Full;
  if (sinks == 0)
    return BlockKind::Empty;
  return BlockKind::Partial;
}

BlockKind RandomAttr::classify(PositionRange q, PositionRange k, int64_t nq,
                               int64_t nk) const {
  if (getPerRow() == 0)
    return BlockKind::Empty;
  if (ShapedType::isDynamic(nk))
    return BlockKind::Partial;
  int64_t numBlocks = getNumCandidateBlocks(nk);
  int64_t kFirst = floorDiv(k.begin, getBlock()),
          kLast = floorDiv(k.last(), getBlock());
  if (kLast < 0 || kFirst >= numBlocks)
    return BlockKind::Empty;
  bool keysOnCandidates = kFirst >= 0 && kLast < numBlocks;
  if (getPerRow() >= numBlocks && keysOnCandidates)
    return BlockKind::Full;
  // Liveness depends only on (query block, key block), and the box holds a
  // pair in every cell of its block ranges: count the picked cells (the
  // same rule and limit as buildClassify in PatternRandom.cpp).
  int64_t qFirst = floorDiv(q.begin, getBlock()),
          qLast = floorDiv(q.last(), getBlock());
  int64_t lo = std::max<int64_t>(kFirst, 0),
          hi = std::min<int64_t>(kLast, numBlocks - 1);
  // Differences of extreme positions could overflow: bound each side first.
  std::optional<int64_t> numQb = llvm::checkedSub(qLast, qFirst);
  if (!numQb || *numQb >= kRandomMaxExactCells ||
      hi - lo >= kRandomMaxExactCells)
    return BlockKind::Partial;
  int64_t cells = (*numQb + 1) * (hi - lo + 1);
  if (cells > kRandomMaxExactCells)
    return BlockKind::Partial;
  int64_t picked = 0;
  for (int64_t qb = qFirst; qb <= qLast; ++qb)
    for (int64_t kb = lo; kb <= hi; ++kb)
      picked += isLive(qb * getBlock(), kb * getBlock(), nq, nk);
  if (picked == 0)
    return BlockKind::Empty;
  return keysOnCandidates && picked == cells ? BlockKind::Full
                                             : BlockKind::Partial;
}

BlockKind AxialAttr::classify(PositionRange q, PositionRange k, int64_t,
                              int64_t) const {
  int64_t cells = getRows() * getCols(), cols = getCols();
  auto offGrid = [&](PositionRange r) {
    return r.last() < 0 || r.begin >= cells;
  };
  auto onGrid = [&](PositionRange r) {
    return r.begin >= 0 && r.last() < cells;
  };
  if (offGrid(q) || offGrid(k))
    return BlockKind::Empty;
  if (!onGrid(q) || !onGrid(k))
    return BlockKind::Partial;
  if (getRows() == 1 || cols == 1)
    return BlockKind::Full;
  bool qOneRow = q.begin / cols == q.last() / cols;
  bool kOneRow = k.begin / cols == k.last() / cols;
  if (qOneRow && kOneRow) {
    if (q.begin / cols == k.begin / cols)
      return BlockKind::Full;
    // Different rows: live only where the columns meet.
    if (q.last() % cols < k.begin % cols || k.last() % cols < q.begin % cols)
      return BlockKind::Empty;
  }
  return BlockKind::Partial;
}

BlockKind BlockSparseAttr::classify(PositionRange q, PositionRange k, int64_t,
                                    int64_t) const {
  int64_t bq = getBlock()[0], bk = getBlock()[1];
  auto shape = getLayout().getType().getShape();
  int64_t qFirst = floorDiv(q.begin, bq), qLast = floorDiv(q.last(), bq);
  int64_t kFirst = floorDiv(k.begin, bk), kLast = floorDiv(k.last(), bk);
  bool inside =
      qFirst >= 0 && kFirst >= 0 && qLast < shape[0] && kLast < shape[1];
  int64_t qLo = std::max<int64_t>(qFirst, 0),
          qHi = std::min(qLast, shape[0] - 1);
  int64_t kLo = std::max<int64_t>(kFirst, 0),
          kHi = std::min(kLast, shape[1] - 1);
  bool anyLive = false, anyDead = !inside;
  if (getLayout().isSplat()) { // Decided without walking the blocks.
    bool overlaps = qLo <= qHi && kLo <= kHi;
    bool bit = getLayout().getSplatValue<bool>();
    anyLive = overlaps && bit;
    anyDead |= overlaps && !bit;
  }
  // Otherwise the walk is bounded by the layout's stored bits.
  for (int64_t qb = qLo; qb <= qHi && !getLayout().isSplat() &&
                         !(anyLive && anyDead);
       ++qb)
    for (int64_t kb = kLo; kb <= kHi && !(anyLive && anyDead); ++kb)
      (isBlockLive(qb, kb) ? anyLive : anyDead) = true;
  if (!anyLive)
    return BlockKind::Empty;
  return anyDead ? BlockKind::Partial : BlockKind::Full;
}

BlockKind UnionAttr::classify(PositionRange q, PositionRange k, int64_t nq,
                              int64_t nk) const {
  bool allEmpty = true;
  for (PatternAttrInterface part : getParts()) {
    BlockKind kind = part.classify(q, k, nq, nk);
    if (kind == BlockKind::Full)
      return BlockKind::Full;
    allEmpty &= kind == BlockKind::Empty;
  }
  return allEmpty ? BlockKind::Empty : BlockKind::Partial;
}

BlockKind IntersectAttr::classify(PositionRange q, PositionRange k, int64_t nq,
                                  int64_t nk) const {
  bool allFull = true;
  for (PatternAttrInterface part : getParts()) {
    BlockKind kind = part.classify(q, k, nq, nk);
    if (kind == BlockKind::Empty)
      return BlockKind::Empty;
    allFull &= kind == BlockKind::Full;
  }
  return allFull ? BlockKind::Full : BlockKind::Partial;
}
