//===- PatternNeighborhood.cpp - The faces of #attn.neighborhood ----------===//
//
// Neighbourhood attention (NATTEN) on a row-major grid of 1 to 3 axes:
// isLive, buildIsLive, classify, buildClassify and buildKeyIntervals in one
// place, since they share the grid arithmetic (docs/Semantics.md §3).
//
// A block of consecutive positions covers, on every axis, a range of
// coordinates: the exact range when the block stays inside one slab of the
// axis's outer axes (one row of a 2-D grid, for the last axis), else the
// whole axis. The block's coordinates lie in the box of those ranges, so a
// box that no window reaches on some axis is Empty, and a box whose every
// query window holds every key coordinate (with both blocks on the grid) is
// Full. A window start grows with the query coordinate, so the windows of
// the coordinates [x0, x1] together cover [start(x0), start(x1) + W - 1].
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnAttrs.h"
#include "attn/Dialect/Attn/IR/PredicateBuilder.h"

using namespace mlir;
using namespace mlir::attn;

int64_t NeighborhoodAttr::getNumCells() const {
  int64_t cells = 1;
  for (int64_t e : getExtent())
    cells *= e;
  return cells;
}

int64_t NeighborhoodAttr::getStride(unsigned d) const {
  int64_t stride = 1;
  for (int64_t e : getExtent().drop_front(d + 1))
    stride *= e;
  return stride;
}

int64_t NeighborhoodAttr::getWindowStart(unsigned d, int64_t x) const {
  int64_t w = getWindow()[d], e = getExtent()[d];
  return std::clamp<int64_t>(x - w / 2, 0, e - w);
}

namespace {

/// The i64 / i1 arithmetic of the grid, as IR.
class GridBuilder : public PredicateBuilder {
public:
  GridBuilder(OpBuilder &builder, Location loc, NeighborhoodAttr attr)
      : PredicateBuilder(builder, loc), attr(attr) {}

  /// The i8 constant of `kind`.
  Value kind(BlockKind kind) {
    return PredicateBuilder::kind(static_cast<int64_t>(kind));
  }
  /// The coordinate of grid position `p` on axis `d`.
  Value coordinate(unsigned d, Value p) {
    return floorMod(floorDiv(p, constant(attr.getStride(d))),
                    constant(attr.getExtent()[d]));
  }
  /// getWindowStart as IR.
  Value windowStart(unsigned d, Value x) {
    int64_t w = attr.getWindow()[d], e = attr.getExtent()[d];
    return max(constant(0), min(sub(x, constant(w / 2)), constant(e - w)));
  }
  /// The coordinate range on axis `d` of the grid positions [a, b]
  /// (see the file comment).
  std::pair<Value, Value> coordinateRange(unsigned d, Value a, Value b) {
    Value outer = constant(attr.getStride(d) * attr.getExtent()[d]);
    Value oneSlab = eq(floorDiv(a, outer), floorDiv(b, outer));
    return {select(oneSlab, coordinate(d, a), constant(0)),
            select(oneSlab, coordinate(d, b),
                   constant(attr.getExtent()[d] - 1))};
  }

private:
  NeighborhoodAttr attr;
};

/// The coordinate range on axis `d` of the grid positions [a, b].
std::pair<int64_t, int64_t> coordinateRange(NeighborhoodAttr attr, unsigned d,
                                            int64_t a, int64_t b) {
  int64_t stride = attr.getStride(d), extent = attr.getExtent()[d];
  int64_t outer = stride * extent;
  if (a / outer != b / outer)
    return {0, extent - 1};
  return {(a / stride) % extent, (b / stride) % extent};
}

} // namespace

bool NeighborhoodAttr::isLive(int64_t i, int64_t j, int64_t, int64_t) const {
  int64_t cells = getNumCells();
  if (i < 0 || j < 0 || i >= cells || j >= cells)
    return false;
  for (unsigned d = 0; d < getExtent().size(); ++d) {
    int64_t stride = getStride(d), extent = getExtent()[d];
    int64_t start = getWindowStart(d, (i / stride) % extent);
    int64_t y = (j / stride) % extent;
    if (y < start || y >= start + getWindow()[d])
      return false;
  }
  return true;
}

Value NeighborhoodAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                                    Value j, Value, Value,
                                    const QueryTileFacts *) const {
  GridBuilder gb(builder, loc, *this);
  Value zero = gb.constant(0), cells = gb.constant(getNumCells());
  Value live =
      gb.logicalAnd(gb.inRange(i, zero, cells), gb.inRange(j, zero, cells));
  for (unsigned d = 0; d < getExtent().size(); ++d) {
    Value start = gb.windowStart(d, gb.coordinate(d, i));
    Value end = gb.add(start, gb.constant(getWindow()[d]));
    live = gb.logicalAnd(live, gb.inRange(gb.coordinate(d, j), start, end));
  }
  return live;
}

BlockKind NeighborhoodAttr::classify(PositionRange q, PositionRange k, int64_t,
                                     int64_t) const {
  int64_t cells = getNumCells();
  if (q.last() < 0 || q.begin >= cells || k.last() < 0 || k.begin >= cells)
    return BlockKind::Empty;
  bool full = q.begin >= 0 && q.last() < cells && k.begin >= 0 &&
              k.last() < cells;
  int64_t qa = std::max<int64_t>(q.begin, 0), qb = std::min(q.last(), cells - 1);
  int64_t ka = std::max<int64_t>(k.begin, 0), kb = std::min(k.last(), cells - 1);
  for (unsigned d = 0; d < getExtent().size(); ++d) {
    auto [x0, x1] = coordinateRange(*this, d, qa, qb);
    auto [y0, y1] = coordinateRange(*this, d, ka, kb);
    int64_t w = getWindow()[d];
    int64_t lowStart = getWindowStart(d, x0), highStart = getWindowStart(d, x1);
    if (y1 < lowStart || y0 > highStart + w - 1)
      return BlockKind::Empty;
    full &= y0 >= highStart && y1 <= lowStart + w - 1;
  }
  return full ? BlockKind::Full : BlockKind::Partial;
}

Value NeighborhoodAttr::buildClassify(OpBuilder &builder, Location loc,
                                      Value qFirst, Value qLast, Value kFirst,
                                      Value kLast, Value, Value,
                                      const QueryTileFacts *) const {
  GridBuilder gb(builder, loc, *this);
  Value zero = gb.constant(0), last = gb.constant(getNumCells() - 1);
  auto offGrid = [&](Value first, Value lastPos) {
    return gb.logicalOr(gb.lt(lastPos, zero), gb.lt(last, first));
  };
  auto onGrid = [&](Value first, Value lastPos) {
    return gb.logicalAnd(gb.ge(first, zero), gb.le(lastPos, last));
  };
  Value empty = gb.logicalOr(offGrid(qFirst, qLast), offGrid(kFirst, kLast));
  Value full = gb.logicalAnd(onGrid(qFirst, qLast), onGrid(kFirst, kLast));
  Value qa = gb.max(qFirst, zero), qb = gb.min(qLast, last);
  Value ka = gb.max(kFirst, zero), kb = gb.min(kLast, last);
  for (unsigned d = 0; d < getExtent().size(); ++d) {
    auto [x0, x1] = gb.coordinateRange(d, qa, qb);
    auto [y0, y1] = gb.coordinateRange(d, ka, kb);
    Value span = gb.constant(getWindow()[d] - 1);
    Value lowStart = gb.windowStart(d, x0), highStart = gb.windowStart(d, x1);
    Value lowEnd = gb.add(lowStart, span), highEnd = gb.add(highStart, span);
    empty = gb.logicalOr(empty, gb.logicalOr(gb.lt(y1, lowStart),
                                             gb.lt(highEnd, y0)));
    full = gb.logicalAnd(full, gb.logicalAnd(gb.ge(y0, highStart),
                                             gb.le(y1, lowEnd)));
  }
  return gb.select(empty, gb.kind(BlockKind::Empty),
                   gb.select(full, gb.kind(BlockKind::Full),
                             gb.kind(BlockKind::Partial)));
}

SmallVector<std::pair<Value, Value>>
NeighborhoodAttr::buildKeyIntervals(OpBuilder &builder, Location loc,
                                    Value qFirst, Value qLast, Value,
                                    Value) const {
  // The rows (axis-0 coordinates) of the queries' windows bound the keys.
  GridBuilder gb(builder, loc, *this);
  Value zero = gb.constant(0), last = gb.constant(getNumCells() - 1);
  Value offGrid = gb.logicalOr(gb.lt(qLast, zero), gb.lt(last, qFirst));
  Value stride = gb.constant(getStride(0));
  Value x0 = gb.floorDiv(gb.max(qFirst, zero), stride);
  Value x1 = gb.floorDiv(gb.min(qLast, last), stride);
  Value first = gb.mul(gb.windowStart(0, x0), stride);
  Value end = gb.mul(gb.add(gb.windowStart(0, x1), gb.constant(getWindow()[0])),
                     stride);
  return {{gb.select(offGrid, zero, first),
           gb.select(offGrid, gb.constant(-1), gb.sub(end, gb.constant(1)))}};
}
