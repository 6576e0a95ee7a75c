//===- PatternBlockMap.cpp - classify and key intervals as IR -------------===//
//
// The IR face of `classify` (PatternClassify.cpp) for tilers that decide
// blocks at run time: `buildClassify` computes the BlockKind of a box of
// positions from i64 values by the same rules, and `buildKeyIntervals`
// bounds the live keys of a range of queries. The unit tests fold this IR on
// constants and compare it with `classify` and with brute-force `isLive`.
//
// With the lengths known, buildClassify answers exactly what classify
// answers for every pattern. Key intervals are tight for the bands (causal,
// window, dilated, block_local), global and sink tokens and
// neighbourhoods (by rows of the grid); strided and fixed give
// every key, and random, axial and block_sparse only their extent (the key
// positions any query can see).
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnAttrs.h"
#include "attn/Dialect/Attn/IR/PredicateBuilder.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {

using Interval = std::pair<Value, Value>;
using Intervals = SmallVector<Interval>;

/// i64, i1 and block-kind (i8) arithmetic of block maps.
class MapBuilder : public PredicateBuilder {
public:
  using PredicateBuilder::PredicateBuilder;

  Value gt(Value a, Value b) { return cmp(arith::CmpIPredicate::sgt, a, b); }
  /// The i8 constant of `kind`.
  Value kind(BlockKind kind) {
    return PredicateBuilder::kind(static_cast<int64_t>(kind));
  }
  Value isKind(Value value, BlockKind k) {
    return cmp(arith::CmpIPredicate::eq, value, kind(k));
  }
  /// Empty when `empty`, else Full when `full`, else Partial.
  Value kindOf(Value empty, Value full) {
    return select(
        empty, kind(BlockKind::Empty),
        select(full, kind(BlockKind::Full), kind(BlockKind::Partial)));
  }
  /// Returns whether [lo, hi] holds a multiple of `m` (m >= 1).
  Value holdsMultiple(Value lo, Value hi, int64_t m) {
    Value c = constant(m);
    return logicalAnd(le(lo, hi), ge(mul(floorDiv(hi, c), c), lo));
  }
  /// Unbounded bounds of an interval.
  Value lowest() { return constant(std::numeric_limits<int64_t>::min()); }
  Value highest() { return constant(std::numeric_limits<int64_t>::max()); }
  Intervals everything() { return {{lowest(), highest()}}; }
  Intervals nothing() { return {{constant(0), constant(-1)}}; }
};

/// The box [qFirst, qLast] x [kFirst, kLast] of a classification.
struct Box {
  Value qFirst, qLast, kFirst, kLast;
};

/// classifyBand of PatternClassify.cpp: the range of `j - i` over the box
/// against the band `lo <= j - i <= hi` (a missing bound is unbounded).
/// Sets `empty` and `full` to i1 values.
void bandFacts(MapBuilder &mb, const Box &box, std::optional<int64_t> lo,
               std::optional<Value> hi, Value &empty, Value &full) {
  Value minDiff = mb.sub(box.kFirst, box.qLast);
  Value maxDiff = mb.sub(box.kLast, box.qFirst);
  empty = mb.boolean(false);
  full = mb.boolean(true);
  if (hi) {
    empty = mb.logicalOr(empty, mb.gt(minDiff, *hi));
    full = mb.logicalAnd(full, mb.le(maxDiff, *hi));
  }
  if (lo) {
    Value loValue = mb.constant(*lo);
    empty = mb.logicalOr(empty, mb.lt(maxDiff, loValue));
    full = mb.logicalAnd(full, mb.ge(minDiff, loValue));
  }
}

Value classifyBand(MapBuilder &mb, const Box &box, std::optional<int64_t> lo,
                   std::optional<Value> hi) {
  Value empty, full;
  bandFacts(mb, box, lo, hi, empty, full);
  return mb.kindOf(empty, full);
}

Box makeBox(Value qFirst, Value qLast, Value kFirst, Value kLast) {
  return Box{qFirst, qLast, kFirst, kLast};
}

} // namespace

//===----------------------------------------------------------------------===//
// dense, causal, window, dilated
//===----------------------------------------------------------------------===//

Value DenseAttr::buildClassify(OpBuilder &builder, Location loc, Value, Value,
                               Value, Value, Value, Value,
                               const QueryTileFacts *) const {
  return MapBuilder(builder, loc).kind(BlockKind::Full);
}

SmallVector<std::pair<Value, Value>>
DenseAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value, Value,
                             Value, Value) const {
  return MapBuilder(builder, loc).everything();
}

/// The largest live `j - i` of a causal pattern.
static Value causalLimit(MapBuilder &mb, CausalAttr attr, Value numQueries,
                         Value numKeys) {
  Value limit = mb.constant(attr.getOffset());
  if (attr.getBottomRight())
    limit = mb.add(limit, mb.sub(numKeys, numQueries));
  return limit;
}

Value CausalAttr::buildClassify(OpBuilder &builder, Location loc, Value qFirst,
                                Value qLast, Value kFirst, Value kLast,
                                Value numQueries, Value numKeys,
                                const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  return classifyBand(mb, makeBox(qFirst, qLast, kFirst, kLast), std::nullopt,
                      causalLimit(mb, *this, numQueries, numKeys));
}

SmallVector<std::pair<Value, Value>>
CausalAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value,
                              Value qLast, Value numQueries,
                              Value numKeys) const {
  MapBuilder mb(builder, loc);
  return {{mb.lowest(),
           mb.add(qLast, causalLimit(mb, *this, numQueries, numKeys))}};
}

Value WindowAttr::buildClassify(OpBuilder &builder, Location loc, Value qFirst,
                                Value qLast, Value kFirst, Value kLast, Value,
                                Value, const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  return classifyBand(mb, makeBox(qFirst, qLast, kFirst, kLast), -getLeft(),
                      mb.constant(getRight()));
}

SmallVector<std::pair<Value, Value>>
WindowAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value qFirst,
                              Value qLast, Value, Value) const {
  MapBuilder mb(builder, loc);
  return {{mb.sub(qFirst, mb.constant(getLeft())),
           mb.add(qLast, mb.constant(getRight()))}};
}

Value DilatedAttr::buildClassify(OpBuilder &builder, Location loc, Value qFirst,
                                 Value qLast, Value kFirst, Value kLast, Value,
                                 Value, const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  int64_t d = getDilation();
  Box box = makeBox(qFirst, qLast, kFirst, kLast);
  if (d == 1)
    return classifyBand(mb, box, -getLeft(), mb.constant(getRight()));
  Value bandEmpty, bandFull;
  bandFacts(mb, box, -getLeft() * d, mb.constant(getRight() * d), bandEmpty,
            bandFull);
  // Some pair must have i - j both in the band and a multiple of d.
  Value lo = mb.max(mb.sub(qFirst, kLast), mb.constant(-getRight() * d));
  Value hi = mb.min(mb.sub(qLast, kFirst), mb.constant(getLeft() * d));
  Value empty =
      mb.logicalOr(bandEmpty, mb.logicalNot(mb.holdsMultiple(lo, hi, d)));
  return mb.kindOf(empty, mb.boolean(false));
}

SmallVector<std::pair<Value, Value>>
DilatedAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value qFirst,
                               Value qLast, Value, Value) const {
  MapBuilder mb(builder, loc);
  int64_t d = getDilation();
  return {{mb.sub(qFirst, mb.constant(getLeft() * d)),
           mb.add(qLast, mb.constant(getRight() * d))}};
}

//===----------------------------------------------------------------------===//
// block_local, strided, fixed
//===----------------------------------------------------------------------===//

Value BlockLocalAttr::buildClassify(OpBuilder &builder, Location loc,
                                    Value qFirst, Value qLast, Value kFirst,
                                    Value kLast, Value, Value,
                                    const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  Value size = mb.constant(getSize());
  Value qb0 = mb.floorDiv(qFirst, size), qb1 = mb.floorDiv(qLast, size);
  Value kb0 = mb.floorDiv(kFirst, size), kb1 = mb.floorDiv(kLast, size);
  Value empty = mb.logicalOr(mb.lt(qb1, kb0), mb.lt(kb1, qb0));
  Value full = mb.logicalAnd(mb.eq(qb0, qb1), mb.eq(kb0, kb1));
  return mb.kindOf(empty, full);
}

SmallVector<std::pair<Value, Value>>
BlockLocalAttr::buildKeyIntervals(OpBuilder &builder, Location loc,
                                  Value qFirst, Value qLast, Value,
                                  Value) const {
  MapBuilder mb(builder, loc);
  Value size = mb.constant(getSize());
  Value first = mb.mul(mb.floorDiv(qFirst, size), size);
  Value last = mb.add(mb.mul(mb.floorDiv(qLast, size), size),
                      mb.constant(getSize() - 1));
  return {{first, last}};
}

Value StridedAttr::buildClassify(OpBuilder &builder, Location loc, Value qFirst,
                                 Value qLast, Value kFirst, Value kLast, Value,
                                 Value, const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  if (getStride() == 1)
    return mb.kind(BlockKind::Full);
  Value some = mb.holdsMultiple(mb.sub(qFirst, kLast), mb.sub(qLast, kFirst),
                                getStride());
  return mb.kindOf(mb.logicalNot(some), mb.boolean(false));
}

SmallVector<std::pair<Value, Value>>
StridedAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value, Value,
                               Value, Value) const {
  return MapBuilder(builder, loc).everything();
}

Value FixedAttr::buildClassify(OpBuilder &builder, Location loc, Value, Value,
                               Value kFirst, Value kLast, Value, Value,
                               const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  int64_t l = getBlock(), c = getSummary();
  if (c == 0)
    return mb.kind(BlockKind::Empty);
  if (c == l)
    return mb.kind(BlockKind::Full);
  Value size = mb.add(mb.sub(kLast, kFirst), mb.constant(1));
  Value first = mb.floorMod(kFirst, mb.constant(l));
  Value last = mb.sub(mb.add(first, size), mb.constant(1));
  // A block as wide as l, or whose residues wrap, holds both kinds.
  Value mixed =
      mb.logicalOr(mb.ge(size, mb.constant(l)), mb.ge(last, mb.constant(l)));
  Value full = mb.ge(first, mb.constant(l - c));
  Value empty = mb.lt(last, mb.constant(l - c));
  return mb.select(mixed, mb.kind(BlockKind::Partial), mb.kindOf(empty, full));
}

SmallVector<std::pair<Value, Value>>
FixedAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value, Value,
                             Value, Value) const {
  MapBuilder mb(builder, loc);
  if (getSummary() == 0)
    return mb.nothing();
  return mb.everything();
}

//===----------------------------------------------------------------------===//
// global, sink
//===----------------------------------------------------------------------===//

/// The listed tokens outside [0, first), sorted and without duplicates.
static SmallVector<int64_t> extraTokens(ArrayRef<int64_t> listed,
                                        int64_t first) {
  SmallVector<int64_t> tokens;
  for (int64_t t : listed)
    if (!(t >= 0 && t < first))
      tokens.push_back(t);
  llvm::sort(tokens);
  tokens.erase(llvm::unique(tokens), tokens.end());
  return tokens;
}

/// Builds countTokens of PatternClassify.cpp: how many positions of
/// [lo, hi] are among `tokens` or in [0, first).
static Value buildCountTokens(MapBuilder &mb, ArrayRef<int64_t> tokens,
                              int64_t first, Value lo, Value hi) {
  Value end = mb.add(hi, mb.constant(1));
  Value count = mb.max(mb.constant(0), mb.sub(mb.min(end, mb.constant(first)),
                                              mb.max(lo, mb.constant(0))));
  for (int64_t t : extraTokens(tokens, first)) {
    Value token = mb.constant(t);
    Value in = mb.logicalAnd(mb.le(lo, token), mb.le(token, hi));
    count =
        mb.add(count, arith::ExtUIOp::create(mb.getBuilder(), mb.getLoc(),
                                             mb.getBuilder().getI64Type(), in));
  }
  return count;
}

Value GlobalAttr::buildClassify(OpBuilder &builder, Location loc, Value qFirst,
                                Value qLast, Value kFirst, Value kLast, Value,
                                Value, const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  Value one = mb.constant(1);
  Value qSize = mb.add(mb.sub(qLast, qFirst), one);
  Value kSize = mb.add(mb.sub(kLast, kFirst), one);
  Value globalQueries =
      buildCountTokens(mb, getTokens(), getFirst(), qFirst, qLast);
  Value globalKeys =
      buildCountTokens(mb, getTokens(), getFirst(), kFirst, kLast);
  Value full =
      mb.logicalOr(mb.eq(globalQueries, qSize), mb.eq(globalKeys, kSize));
  Value zero = mb.constant(0);
  Value empty =
      mb.logicalAnd(mb.eq(globalQueries, zero), mb.eq(globalKeys, zero));
  // Full is checked first, as in classify.
  return mb.select(full, mb.kind(BlockKind::Full),
                   mb.kindOf(empty, mb.boolean(false)));
}

/// Runs of consecutive tokens beyond which global keys are merged into one
/// interval (the count of intervals stays small and static).
static constexpr size_t kMaxTokenIntervals = 4;

/// The intervals of the listed tokens outside [0, first): runs of
/// consecutive tokens, merged into one when there are too many.
static void appendTokenIntervals(MapBuilder &mb, ArrayRef<int64_t> tokens,
                                 int64_t first, Intervals &intervals) {
  SmallVector<std::pair<int64_t, int64_t>> runs;
  for (int64_t t : extraTokens(tokens, first)) {
    if (!runs.empty() && runs.back().second + 1 == t)
      runs.back().second = t;
    else
      runs.push_back({t, t});
  }
  if (runs.size() > kMaxTokenIntervals)
    runs = {{runs.front().first, runs.back().second}};
  for (auto [lo, hi] : runs)
    intervals.push_back({mb.constant(lo), mb.constant(hi)});
}

SmallVector<std::pair<Value, Value>>
GlobalAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value qFirst,
                              Value qLast, Value, Value) const {
  MapBuilder mb(builder, loc);
  // A global query sees every key; otherwise only global keys are live.
  Value globalQuery = mb.gt(
      buildCountTokens(mb, getTokens(), getFirst(), qFirst, qLast),
      mb.constant(0));
  Intervals intervals = {
      {mb.select(globalQuery, mb.lowest(), mb.constant(0)),
       mb.select(globalQuery, mb.highest(), mb.constant(getFirst() - 1))}};
  appendTokenIntervals(mb, getTokens(), getFirst(), intervals);
  return intervals;
}

Value SinkAttr::buildClassify(OpBuilder &builder, Location loc, Value, Value,
                              Value kFirst, Value kLast, Value, Value,
                              const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  Value kSize = mb.add(mb.sub(kLast, kFirst), mb.constant(1));
  Value sinks = buildCountTokens(mb, getTokens(), getFirst(), kFirst, kLast);
  return mb.kindOf(mb.eq(sinks, mb.constant(0)), mb.eq(sinks, kSize));
}

SmallVector<std::pair<Value, Value>>
SinkAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value, Value,
                            Value, Value) const {
  MapBuilder mb(builder, loc);
  Intervals intervals = {{mb.constant(0), mb.constant(getFirst() - 1)}};
  appendTokenIntervals(mb, getTokens(), getFirst(), intervals);
  return intervals;
}

//===----------------------------------------------------------------------===//
// random
//===----------------------------------------------------------------------===//

/// ceil(numKeys / block) for numKeys >= 0.
static Value numCandidateBlocks(MapBuilder &mb, RandomAttr attr,
                                Value numKeys) {
  return mb.floorDiv(mb.add(numKeys, mb.constant(attr.getBlock() - 1)),
                     mb.constant(attr.getBlock()));
}

// buildClassify is in PatternRandom.cpp.

SmallVector<std::pair<Value, Value>>
RandomAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value, Value,
                              Value, Value numKeys) const {
  MapBuilder mb(builder, loc);
  if (getPerRow() == 0)
    return mb.nothing();
  Value end =
      mb.mul(numCandidateBlocks(mb, *this, numKeys), mb.constant(getBlock()));
  return {{mb.constant(0), mb.sub(end, mb.constant(1))}};
}

//===----------------------------------------------------------------------===//
// axial, block_sparse
//===----------------------------------------------------------------------===//

Value AxialAttr::buildClassify(OpBuilder &builder, Location loc, Value qFirst,
                               Value qLast, Value kFirst, Value kLast, Value,
                               Value, const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  Value cells = mb.constant(getRows() * getCols()), zero = mb.constant(0);
  auto offGrid = [&](Value first, Value last) {
    return mb.logicalOr(mb.lt(last, zero), mb.ge(first, cells));
  };
  auto onGrid = [&](Value first, Value last) {
    return mb.logicalAnd(mb.ge(first, zero), mb.lt(last, cells));
  };
  Value empty = mb.logicalOr(offGrid(qFirst, qLast), offGrid(kFirst, kLast));
  Value partial = mb.logicalNot(
      mb.logicalAnd(onGrid(qFirst, qLast), onGrid(kFirst, kLast)));
  Value inside;
  if (getRows() == 1 || getCols() == 1) {
    inside = mb.kind(BlockKind::Full);
  } else {
    // On the grid, positions are non-negative: floor and truncation agree.
    Value cols = mb.constant(getCols());
    auto row = [&](Value p) { return mb.floorDiv(p, cols); };
    auto col = [&](Value p) { return mb.floorMod(p, cols); };
    Value oneRowEach = mb.logicalAnd(mb.eq(row(qFirst), row(qLast)),
                                     mb.eq(row(kFirst), row(kLast)));
    Value sameRow = mb.eq(row(qFirst), row(kFirst));
    // Different rows: live only where the columns meet.
    Value apart = mb.logicalOr(mb.lt(col(qLast), col(kFirst)),
                               mb.lt(col(kLast), col(qFirst)));
    Value oneRowKind = mb.select(sameRow, mb.kind(BlockKind::Full),
                                 mb.kindOf(apart, mb.boolean(false)));
    inside = mb.select(oneRowEach, oneRowKind, mb.kind(BlockKind::Partial));
  }
  return mb.select(empty, mb.kind(BlockKind::Empty),
                   mb.select(partial, mb.kind(BlockKind::Partial), inside));
}

SmallVector<std::pair<Value, Value>>
AxialAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value qFirst,
                             Value qLast, Value, Value) const {
  MapBuilder mb(builder, loc);
  Value cells = mb.constant(getRows() * getCols()), zero = mb.constant(0);
  Value offGrid = mb.logicalOr(mb.lt(qLast, zero), mb.ge(qFirst, cells));
  return {{zero,
           mb.select(offGrid, mb.constant(-1), mb.sub(cells, mb.constant(1)))}};
}

/// The 2-D prefix sums of the layout bits, `[(M + 1) x (K + 1)]` i64:
/// entry (a, b) counts the set bits of the blocks (< a, < b).
static DenseIntElementsAttr prefixSums(BlockSparseAttr attr) {
  auto shape = attr.getLayout().getType().getShape();
  int64_t rows = shape[0] + 1, cols = shape[1] + 1;
  SmallVector<int64_t> sums(rows * cols, 0);
  for (int64_t a = 1; a < rows; ++a)
    for (int64_t b = 1; b < cols; ++b)
      sums[a * cols + b] = sums[(a - 1) * cols + b] + sums[a * cols + b - 1] -
                           sums[(a - 1) * cols + b - 1] +
                           attr.isBlockLive(a - 1, b - 1);
  auto type = RankedTensorType::get({rows, cols},
                                    IntegerType::get(attr.getContext(), 64));
  return DenseIntElementsAttr::get(type, ArrayRef<int64_t>(sums));
}

Value BlockSparseAttr::buildClassify(OpBuilder &builder, Location loc,
                                     Value qFirst, Value qLast, Value kFirst,
                                     Value kLast, Value, Value,
                                     const QueryTileFacts *) const {
  MapBuilder mb(builder, loc);
  auto shape = getLayout().getType().getShape();
  Value bq = mb.constant(getBlock()[0]), bk = mb.constant(getBlock()[1]);
  Value zero = mb.constant(0), one = mb.constant(1);
  Value rows = mb.constant(shape[0]), cols = mb.constant(shape[1]);
  Value qb0 = mb.floorDiv(qFirst, bq), qb1 = mb.floorDiv(qLast, bq);
  Value kb0 = mb.floorDiv(kFirst, bk), kb1 = mb.floorDiv(kLast, bk);
  Value inside =
      mb.logicalAnd(mb.logicalAnd(mb.ge(qb0, zero), mb.ge(kb0, zero)),
                    mb.logicalAnd(mb.lt(qb1, rows), mb.lt(kb1, cols)));
  // The blocks of the box that lie on the layout.
  Value qLo = mb.max(qb0, zero), qHi = mb.min(qb1, mb.sub(rows, one));
  Value kLo = mb.max(kb0, zero), kHi = mb.min(kb1, mb.sub(cols, one));
  Value overlaps = mb.logicalAnd(mb.le(qLo, qHi), mb.le(kLo, kHi));
  Value anyLive, anyDead = mb.logicalNot(inside);
  if (getLayout().isSplat()) {
    bool bit = getLayout().getSplatValue<bool>();
    anyLive = bit ? overlaps : mb.boolean(false);
    if (!bit)
      anyDead = mb.logicalOr(anyDead, overlaps);
  } else {
    // Set bits in the blocks [qLo, qHi] x [kLo, kHi] from the prefix sums;
    // indices are clamped so that the reads stay in bounds when the box
    // misses the layout (the count is then unused).
    auto clampTo = [&](Value v, Value hi) {
      return mb.max(zero, mb.min(v, hi));
    };
    Value a0 = clampTo(qLo, rows), a1 = clampTo(mb.add(qHi, one), rows);
    Value b0 = clampTo(kLo, cols), b1 = clampTo(mb.add(kHi, one), cols);
    Value table = arith::ConstantOp::create(builder, loc, prefixSums(*this));
    auto at = [&](Value a, Value b) -> Value {
      auto index = [&](Value v) -> Value {
        return arith::IndexCastOp::create(builder, loc, builder.getIndexType(),
                                          v);
      };
      return tensor::ExtractOp::create(builder, loc, table,
                                       ValueRange{index(a), index(b)});
    };
    Value count =
        mb.add(mb.sub(at(a1, b1), mb.add(at(a0, b1), at(a1, b0))), at(a0, b0));
    Value area = mb.mul(mb.sub(a1, a0), mb.sub(b1, b0));
    anyLive = mb.logicalAnd(overlaps, mb.gt(count, zero));
    anyDead =
        mb.logicalOr(anyDead, mb.logicalAnd(overlaps, mb.lt(count, area)));
  }
  return mb.kindOf(mb.logicalNot(anyLive), mb.logicalNot(anyDead));
}

SmallVector<std::pair<Value, Value>>
BlockSparseAttr::buildKeyIntervals(OpBuilder &builder, Location loc,
                                   Value qFirst, Value qLast, Value,
                                   Value) const {
  MapBuilder mb(builder, loc);
  auto shape = getLayout().getType().getShape();
  Value zero = mb.constant(0), bq = mb.constant(getBlock()[0]);
  Value offLayout =
      mb.logicalOr(mb.lt(mb.floorDiv(qLast, bq), zero),
                   mb.ge(mb.floorDiv(qFirst, bq), mb.constant(shape[0])));
  Value last = mb.constant(shape[1] * getBlock()[1] - 1);
  return {{zero, mb.select(offLayout, mb.constant(-1), last)}};
}

//===----------------------------------------------------------------------===//
// union, intersect
//===----------------------------------------------------------------------===//

Value UnionAttr::buildClassify(OpBuilder &builder, Location loc, Value qFirst,
                               Value qLast, Value kFirst, Value kLast,
                               Value numQueries, Value numKeys,
                               const QueryTileFacts *facts) const {
  MapBuilder mb(builder, loc);
  Value anyFull = mb.boolean(false), allEmpty = mb.boolean(true);
  for (PatternAttrInterface part : getParts()) {
    Value kind = part.buildClassify(builder, loc, qFirst, qLast, kFirst, kLast,
                                    numQueries, numKeys, facts);
    anyFull = mb.logicalOr(anyFull, mb.isKind(kind, BlockKind::Full));
    allEmpty = mb.logicalAnd(allEmpty, mb.isKind(kind, BlockKind::Empty));
  }
  return mb.select(anyFull, mb.kind(BlockKind::Full),
                   mb.kindOf(allEmpty, mb.boolean(false)));
}

SmallVector<std::pair<Value, Value>>
UnionAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value qFirst,
                             Value qLast, Value numQueries,
                             Value numKeys) const {
  Intervals intervals;
  for (PatternAttrInterface part : getParts())
    llvm::append_range(intervals,
                       part.buildKeyIntervals(builder, loc, qFirst, qLast,
                                              numQueries, numKeys));
  return intervals;
}

Value IntersectAttr::buildClassify(OpBuilder &builder, Location loc,
                                   Value qFirst, Value qLast, Value kFirst,
                                   Value kLast, Value numQueries, Value numKeys,
                                   const QueryTileFacts *facts) const {
  MapBuilder mb(builder, loc);
  Value anyEmpty = mb.boolean(false), allFull = mb.boolean(true);
  for (PatternAttrInterface part : getParts()) {
    Value kind = part.buildClassify(builder, loc, qFirst, qLast, kFirst, kLast,
                                    numQueries, numKeys, facts);
    anyEmpty = mb.logicalOr(anyEmpty, mb.isKind(kind, BlockKind::Empty));
    allFull = mb.logicalAnd(allFull, mb.isKind(kind, BlockKind::Full));
  }
  return mb.kindOf(anyEmpty, allFull);
}

SmallVector<std::pair<Value, Value>>
IntersectAttr::buildKeyIntervals(OpBuilder &builder, Location loc, Value qFirst,
                                 Value qLast, Value numQueries,
                                 Value numKeys) const {
  // Every part bounds the live keys: start from the part with the fewest
  // intervals and clip them by each other part that has a single one.
  SmallVector<Intervals> parts;
  for (PatternAttrInterface part : getParts())
    parts.push_back(part.buildKeyIntervals(builder, loc, qFirst, qLast,
                                           numQueries, numKeys));
  size_t base = 0;
  for (size_t p = 1; p < parts.size(); ++p)
    if (parts[p].size() < parts[base].size())
      base = p;
  MapBuilder mb(builder, loc);
  Intervals result = parts[base];
  for (size_t p = 0; p < parts.size(); ++p) {
    if (p == base || parts[p].size() != 1)
      continue;
    for (Interval &interval : result)
      interval = {mb.max(interval.first, parts[p].front().first),
                  mb.min(interval.second, parts[p].front().second)};
  }
  return result;
}
