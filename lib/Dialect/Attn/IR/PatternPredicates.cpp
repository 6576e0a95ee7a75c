//===- PatternPredicates.cpp - isLive and buildIsLive of every pattern ----===//
//
// Each pattern states its predicate twice, on integers and as IR; the unit
// tests check that the two agree on every input they try.
//
//===----------------------------------------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnAttrs.h"
#include "attn/Dialect/Attn/IR/PredicateBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::attn;

int64_t mlir::attn::floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t mlir::attn::floorMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  return r < 0 ? r + b : r;
}

uint64_t mlir::attn::splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

//===----------------------------------------------------------------------===//
// PredicateBuilder
//===----------------------------------------------------------------------===//

Value PredicateBuilder::constant(int64_t value) {
  return arith::ConstantIntOp::create(builder, loc, builder.getI64Type(),
                                      value);
}
Value PredicateBuilder::boolean(bool value) {
  return arith::ConstantIntOp::create(builder, loc, builder.getI1Type(), value);
}
Value PredicateBuilder::add(Value a, Value b) {
  return arith::AddIOp::create(builder, loc, a, b);
}
Value PredicateBuilder::sub(Value a, Value b) {
  return arith::SubIOp::create(builder, loc, a, b);
}
Value PredicateBuilder::mul(Value a, Value b) {
  return arith::MulIOp::create(builder, loc, a, b);
}
Value PredicateBuilder::floorDiv(Value a, Value b) {
  return arith::FloorDivSIOp::create(builder, loc, a, b);
}
Value PredicateBuilder::floorMod(Value a, Value b) {
  Value r = arith::RemSIOp::create(builder, loc, a, b);
  Value negative = lt(r, constant(0));
  return select(negative, add(r, b), r);
}
Value PredicateBuilder::cmp(arith::CmpIPredicate predicate, Value a, Value b) {
  return arith::CmpIOp::create(builder, loc, predicate, a, b);
}
Value PredicateBuilder::inRange(Value x, Value lo, Value hi) {
  return logicalAnd(ge(x, lo), lt(x, hi));
}
Value PredicateBuilder::logicalAnd(Value a, Value b) {
  return arith::AndIOp::create(builder, loc, a, b);
}
Value PredicateBuilder::logicalOr(Value a, Value b) {
  return arith::OrIOp::create(builder, loc, a, b);
}
Value PredicateBuilder::logicalNot(Value a) {
  return arith::XOrIOp::create(builder, loc, a, boolean(true));
}
Value PredicateBuilder::select(Value condition, Value a, Value b) {
  return arith::SelectOp::create(builder, loc, condition, a, b);
}
Value PredicateBuilder::min(Value a, Value b) {
  return arith::MinSIOp::create(builder, loc, a, b);
}
Value PredicateBuilder::max(Value a, Value b) {
  return arith::MaxSIOp::create(builder, loc, a, b);
}
Value PredicateBuilder::kind(int64_t blockKind) {
  return arith::ConstantIntOp::create(builder, loc, builder.getI8Type(),
                                      blockKind);
}

//===----------------------------------------------------------------------===//
// dense, causal, window, dilated
//===----------------------------------------------------------------------===//

bool DenseAttr::isLive(int64_t, int64_t, int64_t, int64_t) const {
  return true;
}

Value DenseAttr::buildIsLive(OpBuilder &builder, Location loc, Value, Value,
                             Value, Value, const QueryTileFacts *) const {
  return PredicateBuilder(builder, loc).boolean(true);
}

bool CausalAttr::isLive(int64_t i, int64_t j, int64_t numQueries,
                        int64_t numKeys) const {
  int64_t shift = getBottomRight() ? numKeys - numQueries : 0;
  return j - i <= getOffset() + shift;
}

Value CausalAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                              Value j, Value numQueries, Value numKeys,
                              const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  Value limit = pb.constant(getOffset());
  if (getBottomRight())
    limit = pb.add(limit, pb.sub(numKeys, numQueries));
  return pb.le(pb.sub(j, i), limit);
}

bool WindowAttr::isLive(int64_t i, int64_t j, int64_t, int64_t) const {
  int64_t d = j - i;
  return -getLeft() <= d && d <= getRight();
}

Value WindowAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                              Value j, Value, Value,
                              const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  Value d = pb.sub(j, i);
  return pb.logicalAnd(pb.le(pb.constant(-getLeft()), d),
                       pb.le(d, pb.constant(getRight())));
}

bool DilatedAttr::isLive(int64_t i, int64_t j, int64_t, int64_t) const {
  int64_t d = j - i;
  return -getLeft() * getDilation() <= d && d <= getRight() * getDilation() &&
         floorMod(i - j, getDilation()) == 0;
}

Value DilatedAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                               Value j, Value, Value,
                               const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  Value d = pb.sub(j, i);
  Value inBand =
      pb.logicalAnd(pb.le(pb.constant(-getLeft() * getDilation()), d),
                    pb.le(d, pb.constant(getRight() * getDilation())));
  Value onGrid = pb.eq(pb.floorMod(pb.sub(i, j), pb.constant(getDilation())),
                       pb.constant(0));
  return pb.logicalAnd(inBand, onGrid);
}

//===----------------------------------------------------------------------===//
// block_local, strided, fixed
//===----------------------------------------------------------------------===//

bool BlockLocalAttr::isLive(int64_t i, int64_t j, int64_t, int64_t) const {
  return floorDiv(i, getSize()) == floorDiv(j, getSize());
}

Value BlockLocalAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                                  Value j, Value, Value,
                                  const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  Value size = pb.constant(getSize());
  return pb.eq(pb.floorDiv(i, size), pb.floorDiv(j, size));
}

bool StridedAttr::isLive(int64_t i, int64_t j, int64_t, int64_t) const {
  return floorMod(i - j, getStride()) == 0;
}

Value StridedAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                               Value j, Value, Value,
                               const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  return pb.eq(pb.floorMod(pb.sub(i, j), pb.constant(getStride())),
               pb.constant(0));
}

bool FixedAttr::isLive(int64_t, int64_t j, int64_t, int64_t) const {
  return floorMod(j, getBlock()) >= getBlock() - getSummary();
}

Value FixedAttr::buildIsLive(OpBuilder &builder, Location loc, Value, Value j,
                             Value, Value, const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  return pb.ge(pb.floorMod(j, pb.constant(getBlock())),
               pb.constant(getBlock() - getSummary()));
}

//===----------------------------------------------------------------------===//
// global, sink
//===----------------------------------------------------------------------===//

/// Returns whether position `p` is one of `tokens` or in `[0, first)` (the
/// special positions of global and sink patterns).
static bool isTokenPosition(ArrayRef<int64_t> tokens, int64_t first,
                            int64_t p) {
  return (p >= 0 && p < first) || llvm::is_contained(tokens, p);
}

bool GlobalAttr::isLive(int64_t i, int64_t j, int64_t, int64_t) const {
  return isTokenPosition(getTokens(), getFirst(), i) ||
         isTokenPosition(getTokens(), getFirst(), j);
}

/// Builds `isTokenPosition(tokens, first, p)`.
static Value buildIsTokenPosition(PredicateBuilder &pb,
                                  ArrayRef<int64_t> tokens, int64_t first,
                                  Value p) {
  Value result = pb.inRange(p, pb.constant(0), pb.constant(first));
  for (int64_t token : tokens)
    result = pb.logicalOr(result, pb.eq(p, pb.constant(token)));
  return result;
}

Value GlobalAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                              Value j, Value, Value,
                              const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  return pb.logicalOr(buildIsTokenPosition(pb, getTokens(), getFirst(), i),
                      buildIsTokenPosition(pb, getTokens(), getFirst(), j));
}

bool SinkAttr::isLive(int64_t, int64_t j, int64_t, int64_t) const {
  return isTokenPosition(getTokens(), getFirst(), j);
}

Value SinkAttr::buildIsLive(OpBuilder &builder, Location loc, Value, Value j,
                            Value, Value, const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  return buildIsTokenPosition(pb, getTokens(), getFirst(), j);
}

//===----------------------------------------------------------------------===//
// random
//===----------------------------------------------------------------------===//

/// The hash that ranks key block `kb` for query block `qb`.
static uint64_t randomBlockHash(int64_t seed, int64_t qb, int64_t kb) {
  return splitmix64(uint64_t(seed) ^ (uint64_t(qb) << 32) ^ uint64_t(kb));
}

bool RandomAttr::isLive(int64_t i, int64_t j, int64_t, int64_t numKeys) const {
  int64_t numBlocks = getNumCandidateBlocks(numKeys);
  int64_t qb = floorDiv(i, getBlock()), kb = floorDiv(j, getBlock());
  if (kb < 0 || kb >= numBlocks)
    return false;
  // The key block is chosen when fewer than per_row candidates hash lower
  // (hashes of distinct blocks never tie).
  uint64_t mine = randomBlockHash(getSeed(), qb, kb);
  int64_t lower = 0;
  for (int64_t other = 0; other < numBlocks && lower < getPerRow(); ++other)
    lower += randomBlockHash(getSeed(), qb, other) < mine;
  return lower < getPerRow();
}

// buildIsLive is in PatternRandom.cpp.

//===----------------------------------------------------------------------===//
// axial, block_sparse
//===----------------------------------------------------------------------===//

bool AxialAttr::isLive(int64_t i, int64_t j, int64_t, int64_t) const {
  int64_t cells = getRows() * getCols();
  if (i < 0 || j < 0 || i >= cells || j >= cells)
    return false;
  return i / getCols() == j / getCols() || i % getCols() == j % getCols();
}

Value AxialAttr::buildIsLive(OpBuilder &builder, Location loc, Value i, Value j,
                             Value, Value, const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  Value zero = pb.constant(0), cells = pb.constant(getRows() * getCols());
  Value cols = pb.constant(getCols());
  Value onGrid =
      pb.logicalAnd(pb.inRange(i, zero, cells), pb.inRange(j, zero, cells));
  Value sameRow = pb.eq(pb.floorDiv(i, cols), pb.floorDiv(j, cols));
  Value sameCol = pb.eq(pb.floorMod(i, cols), pb.floorMod(j, cols));
  return pb.logicalAnd(onGrid, pb.logicalOr(sameRow, sameCol));
}

bool BlockSparseAttr::isLive(int64_t i, int64_t j, int64_t, int64_t) const {
  return isBlockLive(floorDiv(i, getBlock()[0]), floorDiv(j, getBlock()[1]));
}

Value BlockSparseAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                                   Value j, Value, Value,
                                   const QueryTileFacts *) const {
  PredicateBuilder pb(builder, loc);
  auto shape = getLayout().getType().getShape();
  Value qb = pb.floorDiv(i, pb.constant(getBlock()[0]));
  Value kb = pb.floorDiv(j, pb.constant(getBlock()[1]));
  Value zero = pb.constant(0);
  Value inLayout = pb.logicalAnd(pb.inRange(qb, zero, pb.constant(shape[0])),
                                 pb.inRange(kb, zero, pb.constant(shape[1])));
  // Read a clamped index so the extract stays in bounds, then mask.
  auto toIndex = [&](Value v) -> Value {
    return arith::IndexCastOp::create(builder, loc, builder.getIndexType(),
                                      pb.select(inLayout, v, zero));
  };
  Value layout = arith::ConstantOp::create(builder, loc, getLayout());
  Value bit = tensor::ExtractOp::create(builder, loc, layout,
                                        ValueRange{toIndex(qb), toIndex(kb)});
  return pb.logicalAnd(inLayout, bit);
}

//===----------------------------------------------------------------------===//
// union, intersect
//===----------------------------------------------------------------------===//

bool UnionAttr::isLive(int64_t i, int64_t j, int64_t nq, int64_t nk) const {
  return llvm::any_of(getParts(), [&](PatternAttrInterface part) {
    return part.isLive(i, j, nq, nk);
  });
}

Value UnionAttr::buildIsLive(OpBuilder &builder, Location loc, Value i, Value j,
                             Value nq, Value nk,
                             const QueryTileFacts *facts) const {
  PredicateBuilder pb(builder, loc);
  Value result = pb.boolean(false);
  for (PatternAttrInterface part : getParts())
    result = pb.logicalOr(result,
                          part.buildIsLive(builder, loc, i, j, nq, nk, facts));
  return result;
}

bool IntersectAttr::isLive(int64_t i, int64_t j, int64_t nq, int64_t nk) const {
  return llvm::all_of(getParts(), [&](PatternAttrInterface part) {
    return part.isLive(i, j, nq, nk);
  });
}

Value IntersectAttr::buildIsLive(OpBuilder &builder, Location loc, Value i,
                                 Value j, Value nq, Value nk,
                                 const QueryTileFacts *facts) const {
  PredicateBuilder pb(builder, loc);
  Value result = pb.boolean(true);
  for (PatternAttrInterface part : getParts())
    result = pb.logicalAnd(result,
                           part.buildIsLive(builder, loc, i, j, nq, nk, facts));
  return result;
}
